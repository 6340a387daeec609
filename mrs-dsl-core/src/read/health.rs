//! `health: { ... }`: the HTTP check run after `up`.

use proc_macro2::Span;
use syn::{Ident, LitStr};

use super::Template;
use super::ast::{Field, Value};
use super::shape::{
    Seen, duration, error, expect_fields, expect_str, expect_variable, read_template, unknown_key,
};
use crate::ctxt::Ctxt;
use crate::keys;
use crate::rules;

/// `health: {...}`.
pub struct HealthDecl<'a> {
    /// The key's span.
    pub key: Span,
    /// URL template.
    pub url: Option<Template>,
    /// `basic_auth: { user: "dev", password: VAR }`.
    pub basic_auth: Option<(&'a LitStr, &'a Ident)>,
    /// `unless: VAR`.
    pub unless: Option<&'a Ident>,
    /// Timeout in seconds.
    pub timeout: Option<(u64, Span)>,
    /// Expected status, as written.
    pub expect: Option<(u64, Span)>,
    /// `connect_to: "host:port"`.
    pub connect_to: Option<&'a LitStr>,
}

pub(super) fn read_health<'a>(cx: &Ctxt, field: &'a Field) -> HealthDecl<'a> {
    let mut h = HealthDecl {
        key: field.key.span,
        url: None,
        basic_auth: None,
        unless: None,
        timeout: None,
        expect: None,
        connect_to: None,
    };
    let mut seen = Seen(Vec::new());
    for f in expect_fields(cx, &field.value, "`health`") {
        if !seen.first(&f.key) {
            continue;
        }
        match f.key.name.as_str() {
            "url" => h.url = expect_str(cx, &f.value, "`url`").and_then(|u| read_template(cx, u)),
            "unless" => {
                h.unless = expect_variable(
                    cx,
                    &f.value,
                    "`unless` (the variable that disables basic auth)",
                )
            }
            "timeout" => h.timeout = duration(cx, &f.value, "`timeout`"),
            "connect_to" => h.connect_to = expect_str(cx, &f.value, "`connect_to`"),
            "expect" => match &f.value {
                Value::Int(i) if i.suffix().is_empty() => match i.base10_parse::<u64>() {
                    Ok(code) => h.expect = Some((code, i.span())),
                    Err(e) => error(cx, rules::VALUE_KIND, i.span(), e.to_string()),
                },
                other => error(
                    cx,
                    rules::VALUE_KIND,
                    other.span(),
                    format!("`expect` must be a status code, found {}", other.kind()),
                ),
            },
            "basic_auth" => h.basic_auth = read_basic_auth(cx, f),
            _ => unknown_key(cx, &f.key, keys::HEALTH, "`health`"),
        }
    }
    if !seen.has("url") {
        error(
            cx,
            rules::MISSING_KEY,
            field.key.span,
            "`health` needs `url: \"http://{HOST}/\"`",
        );
    }
    h
}

fn read_basic_auth<'a>(cx: &Ctxt, f: &'a Field) -> Option<(&'a LitStr, &'a Ident)> {
    let mut user = None;
    let mut password = None;
    let mut seen = Seen(Vec::new());
    for a in expect_fields(cx, &f.value, "`basic_auth`") {
        if !seen.first(&a.key) {
            continue;
        }
        match a.key.name.as_str() {
            "user" => user = expect_str(cx, &a.value, "`user`"),
            "password" => {
                password = expect_variable(cx, &a.value, "`password` (the variable holding it)")
            }
            _ => unknown_key(cx, &a.key, keys::BASIC_AUTH, "`basic_auth`"),
        }
    }
    let missing: Vec<&str> = [
        ("user", "`user: \"...\"`"),
        ("password", "`password: VARIABLE` (the variable holding it)"),
    ]
    .into_iter()
    .filter(|(k, _)| !seen.has(k))
    .map(|(_, what)| what)
    .collect();
    if !missing.is_empty() && matches!(f.value, Value::Map(..)) {
        error(
            cx,
            rules::MISSING_KEY,
            f.key.span,
            format!("`basic_auth` needs {}", missing.join(" and ")),
        );
    }
    Some((user?, password?))
}
