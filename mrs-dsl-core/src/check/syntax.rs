//! The DSL's own shape: what reading cannot see field by field.

use std::collections::HashMap;

use crate::ctxt::{Ctxt, Message};
use crate::lower::Lowered;
use crate::read::ast::{Field, Value};
use crate::rules;

/// A key given twice in one map (a section, a service, a variable, a key of
/// an override, an entry of a value) is a slip: which one is meant? Both
/// places are shown; only the first is read.
pub fn check_duplicate_keys(cx: &Ctxt, m: &Lowered<'_>) {
    fields(cx, &m.env.input.fields);
}

fn fields(cx: &Ctxt, fields: &[Field]) {
    // Each key's first field, and whether its first place was reported.
    let mut first: HashMap<&str, (&Field, bool)> = HashMap::with_capacity(fields.len());
    for f in fields {
        match first.get_mut(f.key.name.as_str()) {
            None => {
                first.insert(&f.key.name, (f, false));
            }
            Some((original, reported)) => {
                cx.error(
                    f.key.span,
                    Message::new(
                        rules::DUPLICATE_KEY,
                        format!("`{}` is given twice; the first one is read", f.key.name),
                    )
                    .help("keep one of them"),
                );
                if !*reported {
                    *reported = true;
                    cx.error(
                        original.key.span,
                        Message::new(
                            rules::DUPLICATE_KEY,
                            format!("`{}` is given twice: first here", f.key.name),
                        ),
                    );
                }
            }
        }
        value(cx, &f.value);
    }
}

fn value(cx: &Ctxt, v: &Value) {
    match v {
        Value::Map(f, _) => fields(cx, f),
        Value::List(items, _) | Value::Call(_, items, _) => items.iter().for_each(|i| value(cx, i)),
        _ => {}
    }
}
