//! `${VAR}` interpolation as the Compose Specification defines it.
//!
//! Supported: `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
//! `${VAR:?message}`, `${VAR?message}`, `${VAR:+replacement}`,
//! `${VAR+replacement}`, defaults that nest further expressions, and `$$`
//! for a literal `$`. A `$` followed by anything else is kept as is.
//!
//! Evaluation can be partial: a variable the [`Resolve`] says is
//! [`Binding::Deferred`] stays in the output as an expression, and the rest
//! of the output is re-escaped, so the result is again a template that a
//! later pass (at run time) finishes.

use crate::error::{Diagnostic, Kind};
use crate::limits::MAX_INTERPOLATION_DEPTH;
use crate::location::Location;
use crate::node::{Node, Value};

/// A parsed template: literal text and variable references.
pub type Template = Vec<Segment>;

/// One piece of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// Literal text (`$$` already turned into `$`).
    Literal(String),
    /// A variable reference.
    Var(VarRef),
}

/// A `$VAR` or `${VAR...}` reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarRef {
    /// The variable's name.
    pub name: String,
    /// The modifier, if any.
    pub op: Option<Op>,
    /// The default, message or replacement after the modifier.
    pub arg: Template,
    /// The argument as written, escapes included (empty without a modifier).
    pub arg_text: String,
    /// Offset in characters of the `$` from the start of the string.
    pub offset: usize,
}

/// The modifiers of `${VAR<op>arg}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `:-`: default when unset or empty.
    DefaultIfEmpty,
    /// `-`: default when unset.
    DefaultIfUnset,
    /// `:?`: error when unset or empty.
    RequireNonEmpty,
    /// `?`: error when unset.
    RequireSet,
    /// `:+`: replacement when set and not empty.
    AltIfNonEmpty,
    /// `+`: replacement when set.
    AltIfSet,
}

impl Op {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::DefaultIfEmpty => ":-",
            Op::DefaultIfUnset => "-",
            Op::RequireNonEmpty => ":?",
            Op::RequireSet => "?",
            Op::AltIfNonEmpty => ":+",
            Op::AltIfSet => "+",
        }
    }

    /// Whether the value can come from the expression when the variable is not set.
    pub fn has_default(self) -> bool {
        matches!(
            self,
            Op::DefaultIfEmpty | Op::DefaultIfUnset | Op::AltIfNonEmpty | Op::AltIfSet
        )
    }
}

/// What a variable is bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Binding {
    /// A value.
    Set(String),
    /// No value: unset.
    Unset,
    /// Known later (at run time): leave the expression in place.
    Deferred,
}

/// Where variable values come from.
pub trait Resolve {
    /// The binding of `name`.
    fn resolve(&self, name: &str) -> Binding;
}

impl<F: Fn(&str) -> Binding> Resolve for F {
    fn resolve(&self, name: &str) -> Binding {
        self(name)
    }
}

impl Resolve for std::collections::HashMap<String, String> {
    fn resolve(&self, name: &str) -> Binding {
        self.get(name)
            .map_or(Binding::Unset, |v| Binding::Set(v.clone()))
    }
}

/// Resolved values: `None` is a variable deliberately unset.
impl Resolve for indexmap::IndexMap<String, Option<String>> {
    fn resolve(&self, name: &str) -> Binding {
        match self.get(name) {
            Some(Some(v)) => Binding::Set(v.clone()),
            _ => Binding::Unset,
        }
    }
}

impl Resolve for indexmap::IndexMap<String, String> {
    fn resolve(&self, name: &str) -> Binding {
        self.get(name)
            .map_or(Binding::Unset, |v| Binding::Set(v.clone()))
    }
}

/// Whether `name` is a valid variable name (`[_A-Za-z][_A-Za-z0-9]*`).
pub fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Parses `text` into a template; `at` locates errors.
///
/// An expression `${NAME<op>ARG}` ends where compose-go ends it: at the first
/// `}` that closes as many braces as were opened by `${` after it began
/// (`${JSON:-{"a":1}}` is `${JSON:-{"a":1}` followed by a literal `}`).
/// Inside `ARG`, `$$` is one literal `$` and `$}` one literal `}` (what
/// [`render`] writes for a `}` it must keep inside a deferred default).
/// Defaults nest at most [`MAX_INTERPOLATION_DEPTH`] levels deep.
pub fn parse(text: &str, at: &Location) -> Result<Template, Diagnostic> {
    let chars: Vec<char> = text.chars().collect();
    Parser { chars: &chars, at }.template(0, chars.len(), 0)
}

struct Parser<'a> {
    chars: &'a [char],
    at: &'a Location,
}

impl Parser<'_> {
    /// The template in `chars[start..end]`; `depth` counts enclosing expressions.
    fn template(&self, start: usize, end: usize, depth: usize) -> Result<Template, Diagnostic> {
        let chars = self.chars;
        let mut out = Vec::new();
        let mut literal = String::new();
        let mut pos = start;
        while pos < end {
            let c = chars[pos];
            if c != '$' {
                literal.push(c);
                pos += 1;
                continue;
            }
            let next = if pos + 1 < end {
                Some(chars[pos + 1])
            } else {
                None
            };
            match next {
                Some('$') => {
                    literal.push('$');
                    pos += 2;
                }
                Some('}') if depth > 0 => {
                    literal.push('}');
                    pos += 2;
                }
                Some('{') => {
                    let (var, after) = self.braced(pos, end, depth)?;
                    flush(&mut literal, &mut out);
                    out.push(Segment::Var(var));
                    pos = after;
                }
                Some(c) if c == '_' || c.is_ascii_alphabetic() => {
                    let name_end = self.name_end(pos + 1, end);
                    flush(&mut literal, &mut out);
                    out.push(Segment::Var(VarRef {
                        name: chars[pos + 1..name_end].iter().collect(),
                        op: None,
                        arg: Vec::new(),
                        arg_text: String::new(),
                        offset: pos,
                    }));
                    pos = name_end;
                }
                _ => {
                    literal.push('$');
                    pos += 1;
                }
            }
        }
        flush(&mut literal, &mut out);
        Ok(out)
    }

    fn name_end(&self, mut pos: usize, end: usize) -> usize {
        while pos < end && (self.chars[pos] == '_' || self.chars[pos].is_ascii_alphanumeric()) {
            pos += 1;
        }
        pos
    }

    /// `${...}` starting at `start`: the reference and the position after its `}`.
    fn braced(
        &self,
        start: usize,
        end: usize,
        depth: usize,
    ) -> Result<(VarRef, usize), Diagnostic> {
        let chars = self.chars;
        if depth >= MAX_INTERPOLATION_DEPTH {
            return Err(Diagnostic::new(
                Kind::Interpolation,
                self.at.shifted(start),
                format!("interpolation nested more than {MAX_INTERPOLATION_DEPTH} levels deep"),
            ));
        }
        let name_start = start + 2;
        let name_end = self.name_end(name_start, end);
        let name: String = chars[name_start..name_end].iter().collect();
        if !is_var_name(&name) {
            if name_end >= end {
                return Err(unterminated(chars, start, self.at));
            }
            return Err(invalid(
                chars,
                start,
                self.at,
                "a variable name must start with a letter or `_` and hold only letters, digits and `_`",
            ));
        }
        let at = |i: usize| if i < end { Some(chars[i]) } else { None };
        let op = match (at(name_end), at(name_end + 1)) {
            (Some('}'), _) => None,
            (Some(':'), Some('-')) => Some(Op::DefaultIfEmpty),
            (Some(':'), Some('?')) => Some(Op::RequireNonEmpty),
            (Some(':'), Some('+')) => Some(Op::AltIfNonEmpty),
            (Some('-'), _) => Some(Op::DefaultIfUnset),
            (Some('?'), _) => Some(Op::RequireSet),
            (Some('+'), _) => Some(Op::AltIfSet),
            (None, _) => return Err(unterminated(chars, start, self.at)),
            (Some(_), _) => {
                return Err(invalid(
                    chars,
                    start,
                    self.at,
                    "expected `}` or one of `:-`, `-`, `:?`, `?`, `:+`, `+` after the name",
                ));
            }
        };
        let Some(op) = op else {
            let var = VarRef {
                name,
                op: None,
                arg: Vec::new(),
                arg_text: String::new(),
                offset: start,
            };
            return Ok((var, name_end + 1));
        };
        let arg_start = name_end + op.as_str().len();
        let close = self
            .closing_brace(arg_start, end)
            .ok_or_else(|| unterminated(chars, start, self.at))?;
        let arg = self.template(arg_start, close, depth + 1)?;
        let var = VarRef {
            name,
            op: Some(op),
            arg,
            arg_text: chars[arg_start..close].iter().collect(),
            offset: start,
        };
        Ok((var, close + 1))
    }

    /// The `}` that ends an expression whose argument starts at `pos`: every
    /// `${` opens one more brace, every `}` closes one (compose-go's
    /// `getFirstBraceClosingIndex`); `$$` and `$}` are escapes.
    fn closing_brace(&self, mut pos: usize, end: usize) -> Option<usize> {
        let chars = self.chars;
        let mut open = 1usize;
        while pos < end {
            match chars[pos] {
                '$' if pos + 1 < end && matches!(chars[pos + 1], '$' | '}') => pos += 2,
                '$' if pos + 1 < end && chars[pos + 1] == '{' => {
                    open += 1;
                    pos += 2;
                }
                '}' => {
                    open -= 1;
                    if open == 0 {
                        return Some(pos);
                    }
                    pos += 1;
                }
                _ => pos += 1,
            }
        }
        None
    }
}

fn flush(literal: &mut String, out: &mut Template) {
    if !literal.is_empty() {
        out.push(Segment::Literal(std::mem::take(literal)));
    }
}

fn excerpt(chars: &[char], start: usize) -> String {
    let s: String = chars[start..].iter().take(40).collect();
    if chars.len() - start > 40 {
        format!("{s}...")
    } else {
        s
    }
}

fn invalid(chars: &[char], start: usize, at: &Location, why: &str) -> Diagnostic {
    Diagnostic::new(
        Kind::Interpolation,
        at.shifted(start),
        format!("invalid interpolation `{}`: {why}", excerpt(chars, start)),
    )
    .with_help("write `$$` for a literal `$`")
}

fn unterminated(chars: &[char], start: usize, at: &Location) -> Diagnostic {
    Diagnostic::new(
        Kind::Interpolation,
        at.shifted(start),
        format!("unterminated `${{` in `{}`", excerpt(chars, start)),
    )
    .with_help("close the expression with `}`, or write `$$` for a literal `$`")
}

/// The result of evaluating a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Evaluated {
    /// Fully resolved text.
    Text(String),
    /// Some variables were deferred: the remaining template, in template syntax.
    Partial(String),
}

/// Evaluates a template against `vars`.
///
/// `at` is where the string starts; `${VAR:?msg}` failures point at the
/// expression. Unset variables without a modifier become empty, as in compose.
pub fn evaluate(
    template: &Template,
    vars: &dyn Resolve,
    at: &Location,
) -> Result<Evaluated, Diagnostic> {
    let out = partial(template, vars, at)?;
    if out.iter().any(|s| matches!(s, Segment::Var(_))) {
        Ok(Evaluated::Partial(render(&out)))
    } else {
        Ok(Evaluated::Text(
            out.into_iter()
                .map(|s| match s {
                    Segment::Literal(l) => l,
                    Segment::Var(_) => String::new(),
                })
                .collect(),
        ))
    }
}

/// Evaluates what `vars` knows and keeps the rest: the result is a template
/// again (render it with [`render`]), for a later pass to finish.
pub fn partial(
    template: &Template,
    vars: &dyn Resolve,
    at: &Location,
) -> Result<Template, Diagnostic> {
    let mut out = Vec::new();
    eval_into(template, vars, at, &mut out)?;
    Ok(out)
}

fn eval_into(
    template: &Template,
    vars: &dyn Resolve,
    at: &Location,
    out: &mut Vec<Segment>,
) -> Result<(), Diagnostic> {
    for segment in template {
        match segment {
            Segment::Literal(l) => push_literal(out, l),
            Segment::Var(var) => {
                let binding = vars.resolve(&var.name);
                if binding == Binding::Deferred {
                    let mut arg = Vec::new();
                    eval_into(&var.arg, vars, at, &mut arg)?;
                    let mut kept = var.clone();
                    kept.arg_text = String::new();
                    render_into(&arg, true, &mut kept.arg_text);
                    kept.arg = arg;
                    out.push(Segment::Var(kept));
                    continue;
                }
                let value = match binding {
                    Binding::Set(v) => Some(v),
                    _ => None,
                };
                let non_empty = value.as_deref().is_some_and(|v| !v.is_empty());
                match var.op {
                    None => push_literal(out, value.as_deref().unwrap_or("")),
                    Some(Op::DefaultIfEmpty) if !non_empty => eval_into(&var.arg, vars, at, out)?,
                    Some(Op::DefaultIfUnset) if value.is_none() => {
                        eval_into(&var.arg, vars, at, out)?
                    }
                    Some(Op::RequireNonEmpty) if !non_empty => return Err(required(var, vars, at)),
                    Some(Op::RequireSet) if value.is_none() => return Err(required(var, vars, at)),
                    Some(Op::AltIfNonEmpty) => {
                        if non_empty {
                            eval_into(&var.arg, vars, at, out)?;
                        }
                    }
                    Some(Op::AltIfSet) => {
                        if value.is_some() {
                            eval_into(&var.arg, vars, at, out)?;
                        }
                    }
                    Some(_) => push_literal(out, value.as_deref().unwrap_or("")),
                }
            }
        }
    }
    Ok(())
}

fn push_literal(out: &mut Vec<Segment>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(Segment::Literal(last)) = out.last_mut() {
        last.push_str(text);
    } else {
        out.push(Segment::Literal(text.to_owned()));
    }
}

fn required(var: &VarRef, vars: &dyn Resolve, at: &Location) -> Diagnostic {
    let message = match evaluate(&var.arg, vars, at) {
        Ok(Evaluated::Text(m) | Evaluated::Partial(m)) => m,
        Err(_) => String::new(),
    };
    let text = if message.is_empty() {
        format!("required variable {} is missing a value", var.name)
    } else {
        format!(
            "required variable {} is missing a value: {message}",
            var.name
        )
    };
    Diagnostic::new(Kind::RequiredVariable, at.shifted(var.offset), text)
        .with_help(format!("set {}", var.name))
}

/// Renders a template back to template syntax (`$` escaped as `$$`, and
/// `}` as `$}` inside an argument, where a bare `}` would end it).
pub fn render(template: &Template) -> String {
    let mut out = String::new();
    render_into(template, false, &mut out);
    out
}

fn render_into(template: &Template, in_arg: bool, out: &mut String) {
    for segment in template {
        match segment {
            Segment::Literal(l) => {
                for c in l.chars() {
                    match c {
                        '$' => out.push_str("$$"),
                        '}' if in_arg => out.push_str("$}"),
                        c => out.push(c),
                    }
                }
            }
            Segment::Var(var) => {
                out.push_str("${");
                out.push_str(&var.name);
                if let Some(op) = var.op {
                    out.push_str(op.as_str());
                    render_into(&var.arg, true, out);
                }
                out.push('}');
            }
        }
    }
}

/// What interpolating a tree produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// Final values (`$$` becomes `$`); deferred variables stay as expressions.
    Final,
    /// Templates again (literal `$` kept as `$$`), for a later pass.
    Template,
}

/// Interpolates every string value of `node` (mapping keys are left alone, as in compose).
///
/// Errors are collected rather than stopping at the first.
pub fn interpolate_tree(
    node: &mut Node,
    vars: &dyn Resolve,
    output: Output,
    errors: &mut Vec<Diagnostic>,
) {
    match &mut node.value {
        Value::Str(s) => {
            let result = parse(s, &node.at).and_then(|t| match output {
                Output::Template => partial(&t, vars, &node.at).map(|t| render(&t)),
                Output::Final => evaluate(&t, vars, &node.at).map(|e| match e {
                    Evaluated::Text(text) | Evaluated::Partial(text) => text,
                }),
            });
            match result {
                Ok(text) => *s = text,
                Err(e) => errors.push(e),
            }
        }
        Value::Seq(items) => items
            .iter_mut()
            .for_each(|n| interpolate_tree(n, vars, output, errors)),
        Value::Map(map) => map
            .iter_mut()
            .for_each(|(_, n)| interpolate_tree(n, vars, output, errors)),
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {}
    }
}

/// Every variable reference in a template, nested ones included, with
/// whether it sits inside another reference's default (`nested`).
pub fn references(template: &Template) -> Vec<(&VarRef, bool)> {
    fn go<'a>(t: &'a Template, nested: bool, out: &mut Vec<(&'a VarRef, bool)>) {
        for s in t {
            if let Segment::Var(v) = s {
                out.push((v, nested));
                go(&v.arg, true, out);
            }
        }
    }
    let mut out = Vec::new();
    go(template, false, &mut out);
    out
}

/// The names of the variables `text` refers to, nested ones included, each
/// once, in order of first use. A malformed template refers to none: callers
/// pass templates that were parsed (and their errors reported) before.
pub fn variable_names(text: &str) -> Vec<String> {
    let Ok(template) = parse(text, &Location::synthetic("template")) else {
        return Vec::new();
    };
    let mut names: Vec<String> = Vec::new();
    for (var, _) in references(&template) {
        if !names.contains(&var.name) {
            names.push(var.name.clone());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn at() -> Location {
        Location::new("t.yml".into(), 3, 10)
    }

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn eval(text: &str, v: &HashMap<String, String>) -> Result<String, Diagnostic> {
        let t = parse(text, &at())?;
        match evaluate(&t, v, &at())? {
            Evaluated::Text(s) => Ok(s),
            Evaluated::Partial(s) => panic!("partial: {s}"),
        }
    }

    #[test]
    fn plain_forms() {
        let v = vars(&[("HOST", "mrs.fr"), ("EMPTY", "")]);
        assert_eq!(eval("www.${HOST}", &v).ok(), Some("www.mrs.fr".into()));
        assert_eq!(eval("$HOST/x", &v).ok(), Some("mrs.fr/x".into()));
        assert_eq!(eval("${NOPE}", &v).ok(), Some(String::new()));
        assert_eq!(
            eval("a$$b $${1} $1 $", &v).ok(),
            Some("a$b ${1} $1 $".into())
        );
    }

    #[test]
    fn modifiers() {
        let v = vars(&[("SET", "x"), ("EMPTY", "")]);
        assert_eq!(eval("${EMPTY:-d}", &v).ok(), Some("d".into()));
        assert_eq!(eval("${EMPTY-d}", &v).ok(), Some(String::new()));
        assert_eq!(eval("${UNSET-d}", &v).ok(), Some("d".into()));
        assert_eq!(eval("${SET:-d}", &v).ok(), Some("x".into()));
        assert_eq!(eval("${SET:+r}", &v).ok(), Some("r".into()));
        assert_eq!(eval("${EMPTY:+r}", &v).ok(), Some(String::new()));
        assert_eq!(eval("${EMPTY+r}", &v).ok(), Some("r".into()));
        assert_eq!(eval("${UNSET+r}", &v).ok(), Some(String::new()));
        assert_eq!(eval("${EMPTY?m}", &v).ok(), Some(String::new()));
    }

    #[test]
    fn nested_defaults() {
        let v = vars(&[("B", "bee")]);
        assert_eq!(eval("${A:-${B:-c}}", &v).ok(), Some("bee".into()));
        assert_eq!(eval("${A:-x${C:-${B}}y}", &v).ok(), Some("xbeey".into()));
    }

    #[test]
    fn required_variables_fail_with_message_and_position() {
        let v = vars(&[("EMPTY", "")]);
        let e = eval("abc ${EMPTY:?must be set}", &v).expect_err("required");
        assert_eq!(e.kind, Kind::RequiredVariable);
        assert_eq!(
            e.message,
            "required variable EMPTY is missing a value: must be set"
        );
        assert_eq!(e.at.to_string(), "t.yml:3:14");
        let e = eval("${UNSET?}", &v).expect_err("required");
        assert_eq!(e.message, "required variable UNSET is missing a value");
    }

    #[test]
    fn syntax_errors() {
        let e = parse("x ${HOST", &at()).expect_err("unterminated");
        assert!(e.message.starts_with("unterminated `${`"), "{e}");
        assert_eq!(e.at.col, 12);
        assert!(parse("${}", &at()).is_err());
        assert!(parse("${1A}", &at()).is_err());
        assert!(parse("${A!x}", &at()).is_err());
        assert!(parse("${A:-${B}", &at()).is_err());
    }

    #[test]
    fn partial_evaluation_keeps_deferred_variables() {
        let resolve = |name: &str| match name {
            "HOST" => Binding::Set("a$b".into()),
            "TAG" => Binding::Deferred,
            _ => Binding::Unset,
        };
        let t = parse("${HOST}:${TAG:-${HOST}} $$", &at()).expect("parse");
        let out = evaluate(&t, &resolve, &at()).expect("eval");
        assert_eq!(out, Evaluated::Partial("a$$b:${TAG:-a$$b} $$".into()));
        // A second pass with everything known gives the same as one full pass.
        let Evaluated::Partial(rest) = out else {
            unreachable!()
        };
        let full = |name: &str| match name {
            "TAG" => Binding::Set("v1".into()),
            _ => Binding::Unset,
        };
        let t2 = parse(&rest, &at()).expect("parse");
        assert_eq!(
            evaluate(&t2, &full, &at()).ok(),
            Some(Evaluated::Text("a$b:v1 $".into()))
        );
    }

    #[test]
    fn lists_references() {
        let t = parse("${A:-${B}} $C", &at()).expect("parse");
        let names: Vec<(&str, bool)> = references(&t)
            .into_iter()
            .map(|(v, n)| (v.name.as_str(), n))
            .collect();
        assert_eq!(names, vec![("A", false), ("B", true), ("C", false)]);
    }

    #[test]
    fn braces_in_defaults_end_where_compose_ends_them() {
        // compose-go's getFirstBraceClosingIndex: the expression ends at the
        // first `}` that closes the braces opened by `${`; the rest is text.
        let v = vars(&[("JSON", "x")]);
        assert_eq!(
            eval("${NOPE:-{\"a\":1}}", &v).ok(),
            Some("{\"a\":1}".into())
        );
        assert_eq!(eval("${JSON:-{\"a\":1}}", &v).ok(), Some("x}".into()));
        assert_eq!(
            eval("${NOPE:-{\"a\":{\"b\":1}}}", &v).ok(),
            Some("{\"a\":{\"b\":1}}".into())
        );
        assert_eq!(eval("${NOPE:-${JSON}-y}z", &v).ok(), Some("x-yz".into()));
        // compose-go's TestPrecedence and TestNonAlphanumericDefault.
        assert_eq!(
            eval("${NOPE-myerror?msg}", &v).ok(),
            Some("myerror?msg".into())
        );
        assert_eq!(
            eval("ok ${NOPE:-/non:-alphanumeric}", &v).ok(),
            Some("ok /non:-alphanumeric".into())
        );
        // compose-go's TestUnescaped: a `$` not starting an expression stays.
        for text in ["a $ string", "^REGEX$", "$}", "$"] {
            assert_eq!(eval(text, &v).ok().as_deref(), Some(text));
        }
    }

    #[test]
    fn arguments_keep_their_text_as_written() {
        let t = parse("${A:-$$x ${B}}", &at()).expect("parse");
        let Some(Segment::Var(var)) = t.first() else {
            panic!("{t:?}")
        };
        assert_eq!(var.arg_text, "$$x ${B}");
    }

    #[test]
    fn deferred_defaults_keep_substituted_braces_literal() {
        // `${D:-$E}` with E = "}a" and D known only later: the second pass
        // must give "}a", not "a}".
        let first = |name: &str| match name {
            "D" => Binding::Deferred,
            "E" => Binding::Set("}a$".into()),
            _ => Binding::Unset,
        };
        let t = parse("${D:-$E}", &at()).expect("parse");
        let Evaluated::Partial(rest) = evaluate(&t, &first, &at()).expect("eval") else {
            panic!("D is deferred")
        };
        let t2 = parse(&rest, &at()).expect("the partial result is a template");
        let unset = |_: &str| Binding::Unset;
        assert_eq!(
            evaluate(&t2, &unset, &at()).ok(),
            Some(Evaluated::Text("}a$".into()))
        );
        let set = |_: &str| Binding::Set("d".into());
        assert_eq!(
            evaluate(&t2, &set, &at()).ok(),
            Some(Evaluated::Text("d".into()))
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "${A:-".repeat(40) + &"}".repeat(40);
        let e = parse(&deep, &at()).expect_err("too deep");
        assert_eq!(e.kind, Kind::Interpolation);
        assert!(e.message.contains("nested more than"), "{e}");
        let ok = "${A:-".repeat(10) + "x" + &"}".repeat(10);
        assert_eq!(eval(&ok, &vars(&[])).ok(), Some("x".into()));
    }
}
