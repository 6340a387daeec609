//! `services: { NAME: { key: value } }`: overrides merged, replaced or removed.

use proc_macro2::Span;
use syn::LitStr;

use super::Template;
use super::ast::{Field, Key, Value};
use super::shape::{Seen, error, expect_fields, expect_str, read_template};
use super::template;
use crate::ctxt::{Ctxt, Message};
use crate::rules;

/// `services: { NAME: { key: value } }`.
pub struct ServiceDecl<'a> {
    /// Service name.
    pub name: &'a Key,
    /// Compose keys merged, replaced or removed.
    pub overrides: Vec<OverrideDecl<'a>>,
    /// `unpinned: "reason"`: waives the pinned-image rule.
    pub unpinned: Option<&'a LitStr>,
}

/// One overridden service key.
pub struct OverrideDecl<'a> {
    /// The compose key.
    pub key: &'a Key,
    /// What happens to it.
    pub value: OverrideValue<'a>,
}

/// How an override changes the merged key.
pub enum OverrideValue<'a> {
    /// `none`: the key is removed.
    Remove(Span),
    /// `replace(...)`: the value replaces the overlays' whole.
    Replace(Val<'a>),
    /// A value merged into the overlays' as a compose overlay would: maps
    /// and keyed collections (`environment`, `labels`...) by key.
    Merge(Val<'a>),
}

/// A value of a service override.
pub enum Val<'a> {
    /// A string: a template.
    Str(Template),
    /// A number.
    Int(i64, Span),
    /// A number with a suffix (`60s`), kept as text.
    Text(String, Span),
    /// `true` / `false`.
    Bool(bool, Span),
    /// `null`.
    Null(Span),
    /// `[...]`.
    List(Vec<Val<'a>>, Span),
    /// `{ key: value }`.
    Map(Vec<(&'a Key, Val<'a>)>, Span),
    /// `none` as an entry of a map: that entry is removed.
    Remove(Span),
}

impl Val<'_> {
    /// The value's span.
    pub fn span(&self) -> Span {
        match self {
            Val::Str(t) => t.span,
            Val::Int(_, s)
            | Val::Text(_, s)
            | Val::Bool(_, s)
            | Val::Null(s)
            | Val::List(_, s)
            | Val::Map(_, s)
            | Val::Remove(s) => *s,
        }
    }
}

pub(super) fn read_service<'a>(
    cx: &Ctxt,
    field: &'a Field,
    refused: &mut Vec<String>,
) -> ServiceDecl<'a> {
    let mut decl = ServiceDecl {
        name: &field.key,
        overrides: Vec::new(),
        unpinned: None,
    };
    let mut seen = Seen(Vec::new());
    let what = format!("service `{}`", field.key.name);
    for f in expect_fields(cx, &field.value, &what) {
        if !seen.first(&f.key) {
            continue;
        }
        if f.key.name == "unpinned" {
            decl.unpinned = expect_str(
                cx,
                &f.value,
                "`unpinned` (the reason a moving tag is acceptable)",
            );
            continue;
        }
        let value = match &f.value {
            Value::Ident(i) if i == "none" => Some(OverrideValue::Remove(i.span())),
            Value::Call(function, args, span) if function == "replace" => match args.as_slice() {
                [v] => read_val(cx, v, false, refused).map(OverrideValue::Replace),
                _ => {
                    error(
                        cx,
                        rules::OVERRIDE_VALUE,
                        *span,
                        "`replace` takes the one value that replaces the overlays', e.g. `environment: replace({ DEBUG: \"1\" })`",
                    );
                    None
                }
            },
            v => read_val(cx, v, false, refused).map(OverrideValue::Merge),
        };
        if let Some(value) = value {
            decl.overrides.push(OverrideDecl { key: &f.key, value });
        }
    }
    decl
}

/// Reads an override value; `in_map` allows `none` (removing that entry).
/// Variables referred to by a refused value go to `refused`.
fn read_val<'a>(
    cx: &Ctxt,
    value: &'a Value,
    in_map: bool,
    refused: &mut Vec<String>,
) -> Option<Val<'a>> {
    Some(match value {
        Value::Str(s) => Val::Str(read_template(cx, s)?),
        Value::Int(i) if i.suffix().is_empty() => match i.base10_parse::<i64>() {
            Ok(n) => Val::Int(n, i.span()),
            Err(e) => {
                error(cx, rules::OVERRIDE_VALUE, i.span(), e.to_string());
                return None;
            }
        },
        Value::Int(i) => Val::Text(i.to_string(), i.span()),
        Value::Bool(b) => Val::Bool(b.value, b.span),
        Value::List(items, span) => {
            let read: Vec<Option<Val<'a>>> = items
                .iter()
                .map(|i| read_val(cx, i, false, refused))
                .collect();
            Val::List(read.into_iter().collect::<Option<Vec<_>>>()?, *span)
        }
        Value::Map(fields, span) => {
            let mut seen = Seen(Vec::new());
            let mut out = Vec::new();
            let mut ok = true;
            for f in fields {
                if !seen.first(&f.key) {
                    continue;
                }
                match read_val(cx, &f.value, true, refused) {
                    Some(v) => out.push((&f.key, v)),
                    None => ok = false,
                }
            }
            if !ok {
                return None;
            }
            Val::Map(out, *span)
        }
        Value::Ident(i) if i == "null" => Val::Null(i.span()),
        Value::Ident(i) if i == "none" && in_map => Val::Remove(i.span()),
        Value::Ident(i) if i == "none" => {
            cx.error(
                i.span(),
                Message::new(
                    rules::OVERRIDE_VALUE,
                    "`none` removes a key or an entry of a map, not an item of a list",
                )
                .help("leave the item out, and write the list with `replace([...])` to drop the overlays' items"),
            );
            return None;
        }
        Value::Ident(i) => {
            cx.error(
                i.span(),
                Message::new(
                    rules::OVERRIDE_VALUE,
                    format!("`{i}` is not a value here: write a string, a number, a list or a map"),
                )
                .help(format!("write \"{i}\" in quotes; `none` removes the key")),
            );
            return None;
        }
        Value::Call(f, args, _) => {
            let m = Message::new(
                rules::OVERRIDE_VALUE,
                if f == "replace" {
                    "`replace(...)` applies to a whole service key, like `environment: replace({ ... })`".to_owned()
                } else {
                    format!(
                        "`{f}(...)` is not a value of a service key: functions only compute variables in `vars`"
                    )
                },
            );
            let m = match args.as_slice() {
                [Value::Str(s)] if f == "format" => {
                    // Its variables count as used: the fix keeps them.
                    if let Ok(c) = template::convert(&s.value()) {
                        refused.extend(c.refs);
                    }
                    m.help(format!(
                        "strings are already templates: write {:?}",
                        s.value()
                    ))
                }
                _ if f == "replace" => m.help("write the value itself here"),
                _ => {
                    m.help("declare the value in `vars` and use it in a string, e.g. `\"{NAME}\"`")
                }
            };
            cx.error(f.span(), m);
            return None;
        }
    })
}
