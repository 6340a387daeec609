//! Shapes every section shares: the kind a value must be, durations,
//! templates, keys read once. Errors here are the syntax family's.

use proc_macro2::Span;
use syn::{Ident, LitStr};

use mrs_compose::error::did_you_mean;

use super::Template;
use super::ast::{self, Field, Key, Value};
use super::template;
use crate::ctxt::{Ctxt, Message};
use crate::rules::{self, Rule};

pub(super) fn error(cx: &Ctxt, rule: Rule, span: Span, m: impl Into<String>) {
    cx.error(span, Message::new(rule, m));
}

pub(super) fn unknown_key(cx: &Ctxt, key: &Key, allowed: &[&str], what: &str) {
    let m = Message::new(
        rules::UNKNOWN_KEY,
        format!("unknown key `{}` in {what}", key.name),
    );
    let m = match did_you_mean(&key.name, allowed.iter().copied()) {
        Some(s) => m.help(format!("did you mean `{s}`?")),
        None => m.help(format!("expected one of: {}", allowed.join(", "))),
    };
    cx.error(key.span, m);
}

pub(super) fn expect_str<'a>(cx: &Ctxt, value: &'a Value, what: &str) -> Option<&'a LitStr> {
    match value {
        Value::Str(s) => Some(s),
        other => {
            error(
                cx,
                rules::VALUE_KIND,
                other.span(),
                format!("{what} must be a string, found {}", other.kind()),
            );
            None
        }
    }
}

pub(super) fn expect_ident<'a>(cx: &Ctxt, value: &'a Value, what: &str) -> Option<&'a Ident> {
    match value {
        Value::Ident(i) => Some(i),
        other => {
            error(
                cx,
                rules::VALUE_KIND,
                other.span(),
                format!("{what} must be a name, found {}", other.kind()),
            );
            None
        }
    }
}

/// A variable named where a variable goes (`password: VAR`): a name, not a string.
pub(super) fn expect_variable<'a>(cx: &Ctxt, value: &'a Value, what: &str) -> Option<&'a Ident> {
    match value {
        Value::Ident(i) => Some(i),
        Value::Str(s) => {
            let text = s.value();
            let m = Message::new(
                rules::VALUE_KIND,
                format!("{what} names a variable, and a string is a value"),
            );
            let m = if mrs_compose::interpolate::is_var_name(&text) {
                m.help(format!("write the name without quotes: `{text}`"))
            } else {
                m.help(format!(
                    "declare the value in `vars` and name it here: {}",
                    template::NAME_SHAPE
                ))
            };
            cx.error(s.span(), m);
            None
        }
        other => expect_ident(cx, other, what),
    }
}

pub(super) fn expect_fields<'a>(cx: &Ctxt, value: &'a Value, what: &str) -> &'a [Field] {
    match value {
        Value::Map(fields, _) => fields,
        other => {
            error(
                cx,
                rules::VALUE_KIND,
                other.span(),
                format!(
                    "{what} must be a map `{{ key: value, ... }}`, found {}",
                    other.kind()
                ),
            );
            &[]
        }
    }
}

/// Reads a template string, reporting what is malformed.
pub(super) fn read_template(cx: &Ctxt, lit: &LitStr) -> Option<Template> {
    let text = lit.value();
    match template::convert(&text) {
        Ok(c) => Some(Template {
            text,
            compose: c.compose,
            refs: c.refs,
            span: lit.span(),
        }),
        Err(e) => {
            error(cx, rules::TEMPLATE_SYNTAX, lit.span(), e);
            None
        }
    }
}

/// Reads a duration literal like `60s`, `15m`, `2h`, `7d` into seconds.
pub fn duration(cx: &Ctxt, value: &Value, what: &str) -> Option<(u64, Span)> {
    let lit = match value {
        Value::Int(lit) => lit,
        Value::Str(s) => {
            // `"7 days"`, `"60s"`: say how to write it.
            let text = s.value();
            let mut words = text.split_whitespace();
            let m = Message::new(
                rules::DURATION,
                format!("{what} is a duration token like `60s`, not a string"),
            );
            let fix = match (words.next(), words.next(), words.next()) {
                (Some(n), Some(word), None) if n.parse::<u64>().is_ok() => ast::unit_of_word(word)
                    .map(|(unit, factor)| {
                        n.parse::<u64>()
                            .ok()
                            .and_then(|n| n.checked_mul(factor))
                            .map_or_else(|| format!("{n}{unit}"), |n| format!("{n}{unit}"))
                    }),
                (Some(one), None, None)
                    if one.ends_with(['s', 'm', 'h', 'd'])
                        && one[..one.len() - 1].parse::<u64>().is_ok() =>
                {
                    Some(one.to_owned())
                }
                _ => None,
            };
            cx.error(
                s.span(),
                match fix {
                    Some(f) => m.help(format!("write `{f}`, without quotes")),
                    None => m.help("write it like `60s`, `15m`, `2h` or `7d`, without quotes"),
                },
            );
            return None;
        }
        other => {
            error(
                cx,
                rules::VALUE_KIND,
                other.span(),
                format!(
                    "{what} must be a duration like `60s`, `15m` or `7d`, found {}",
                    other.kind()
                ),
            );
            return None;
        }
    };
    let n: u64 = match lit.base10_parse() {
        Ok(n) => n,
        Err(e) => {
            error(cx, rules::DURATION, lit.span(), e.to_string());
            return None;
        }
    };
    let scale = match lit.suffix() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "" => {
            error(
                cx,
                rules::DURATION,
                lit.span(),
                format!("{what} needs a unit: `{n}s`, `{n}m`, `{n}h` or `{n}d`"),
            );
            return None;
        }
        other => {
            let m = Message::new(
                rules::DURATION,
                format!("unknown duration unit `{other}`: use `s`, `m`, `h` or `d`"),
            );
            let m = match ast::unit_of_word(other) {
                Some((unit, factor)) => match n.checked_mul(factor) {
                    Some(n) => m.help(format!("write `{n}{unit}`")),
                    None => m,
                },
                None => m,
            };
            cx.error(lit.span(), m);
            return None;
        }
    };
    match n.checked_mul(scale) {
        Some(secs) => Some((secs, lit.span())),
        None => {
            error(
                cx,
                rules::DURATION,
                lit.span(),
                format!("{what} is too long"),
            );
            None
        }
    }
}

/// The keys of a map given so far: a key is read once (the first time).
pub(super) struct Seen(pub(super) Vec<String>);

impl Seen {
    pub(super) fn first(&mut self, key: &Key) -> bool {
        if self.0.contains(&key.name) {
            false
        } else {
            self.0.push(key.name.clone());
            true
        }
    }

    pub(super) fn has(&self, key: &str) -> bool {
        self.0.iter().any(|k| k == key)
    }
}
