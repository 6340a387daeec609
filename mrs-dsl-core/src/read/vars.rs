//! `vars: { NAME: source }`.

use proc_macro2::Span;
use syn::Ident;

use mrs_compose::error::did_you_mean;
use mrs_env::spec::Derivation;

use super::Template;
use super::ast::{Field, Key, Value};
use super::shape::{error, read_template};
use super::template;
use crate::ctxt::{Ctxt, Message};
use crate::keys;
use crate::rules;

/// `NAME: source` in `vars`.
pub struct VarDecl<'a> {
    /// Variable name.
    pub name: &'a Key,
    /// Doc comment (help for inputs).
    pub docs: &'a [String],
    /// Where the value comes from.
    pub source: VarDeclSource<'a>,
}

/// The source of a variable, as declared.
pub enum VarDeclSource<'a> {
    /// `"value"` (or a number).
    Literal(String, Span),
    /// `secret`.
    Secret(Span),
    /// `input` or `input("help")`.
    Input(Option<String>, Span),
    /// `slug(OTHER)`.
    Derived(Derivation, &'a Ident, Span),
    /// `format("{A}.example")`.
    Template(Template),
    /// `unset`.
    Unset(Span),
}

impl VarDeclSource<'_> {
    /// The span of the declaration's value.
    pub fn span(&self) -> Span {
        match self {
            VarDeclSource::Literal(_, s)
            | VarDeclSource::Secret(s)
            | VarDeclSource::Input(_, s)
            | VarDeclSource::Derived(_, _, s)
            | VarDeclSource::Unset(s) => *s,
            VarDeclSource::Template(t) => t.span,
        }
    }
}

pub(super) fn read_var<'a>(cx: &Ctxt, field: &'a Field) -> Option<VarDecl<'a>> {
    if !mrs_compose::interpolate::is_var_name(&field.key.name) {
        let normal: String = field
            .key
            .name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let m = Message::new(
            rules::VARIABLE_NAME,
            format!(
                "`{}` is not a variable name: {}",
                field.key.name,
                template::NAME_SHAPE
            ),
        );
        let m = if mrs_compose::interpolate::is_var_name(&normal) {
            m.help(format!("write `{normal}`"))
        } else {
            m
        };
        cx.error(field.key.span, m);
        return None;
    }
    let source = match &field.value {
        Value::Str(s) => VarDeclSource::Literal(s.value(), s.span()),
        Value::Int(i) => VarDeclSource::Literal(i.base10_digits().to_owned(), i.span()),
        Value::Bool(b) => VarDeclSource::Literal(b.value.to_string(), b.span),
        Value::Ident(i) if i == "secret" => VarDeclSource::Secret(i.span()),
        Value::Ident(i) if i == "input" => VarDeclSource::Input(None, i.span()),
        Value::Ident(i) if i == "unset" => VarDeclSource::Unset(i.span()),
        Value::Call(f, args, span) if f == "input" => match args.as_slice() {
            [Value::Str(help)] => VarDeclSource::Input(Some(help.value()), *span),
            _ => {
                error(
                    cx,
                    rules::VARIABLE_SOURCE,
                    *span,
                    "`input` takes one string: what to give, e.g. `input(\"the commit to deploy\")`",
                );
                return None;
            }
        },
        Value::Call(f, args, span) if f == "format" => match args.as_slice() {
            [Value::Str(t)] => VarDeclSource::Template(read_template(cx, t)?),
            _ => {
                error(
                    cx,
                    rules::VARIABLE_SOURCE,
                    *span,
                    "`format` takes one string template, e.g. `format(\"{BRANCH_SLUG}.review.example\")`",
                );
                return None;
            }
        },
        Value::Call(f, args, span) => {
            let function = match f.to_string().as_str() {
                "slug" => Derivation::Slug,
                other => {
                    let m = Message::new(
                        rules::VARIABLE_SOURCE,
                        format!("unknown function `{other}`"),
                    );
                    let m = match did_you_mean(other, keys::DERIVATIONS.iter().copied()) {
                        Some(s) => m.help(format!("did you mean `{s}`?")),
                        None => {
                            m.help(format!("known functions: {}", keys::DERIVATIONS.join(", ")))
                        }
                    };
                    cx.error(f.span(), m);
                    return None;
                }
            };
            match args.as_slice() {
                [Value::Ident(from)] => VarDeclSource::Derived(function, from, *span),
                _ => {
                    error(
                        cx,
                        rules::VARIABLE_SOURCE,
                        *span,
                        format!(
                            "`{0}` takes one variable name, e.g. `{0}(HOST)`",
                            function.name()
                        ),
                    );
                    return None;
                }
            }
        }
        Value::Ident(i) => {
            let m = Message::new(
                rules::VARIABLE_SOURCE,
                format!("`{i}` is not a variable source"),
            );
            let m = match did_you_mean(&i.to_string(), keys::VAR_KEYWORDS.iter().copied()) {
                Some(s) => m.help(format!("did you mean `{s}`?")),
                None => m.help("write a value in quotes, or `secret`, `input`, `unset`, `slug(OTHER)` or `format(\"...{OTHER}...\")`"),
            };
            cx.error(i.span(), m);
            return None;
        }
        other => {
            error(
                cx,
                rules::VARIABLE_SOURCE,
                other.span(),
                format!(
                    "a variable's value must be a string, `secret`, `input`, `unset`, `slug(OTHER)` or `format(\"...{{OTHER}}...\")`, found {}",
                    other.kind()
                ),
            );
            return None;
        }
    };
    Some(VarDecl {
        name: &field.key,
        docs: &field.docs,
        source,
    })
}
