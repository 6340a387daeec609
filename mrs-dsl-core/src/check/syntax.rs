//! The DSL's own shape: what reading cannot see field by field.

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
    for (i, f) in fields.iter().enumerate() {
        if let Some(first) = fields[..i].iter().find(|g| g.key.name == f.key.name) {
            cx.error(
                f.key.span,
                Message::new(
                    rules::DUPLICATE_KEY,
                    format!("`{}` is given twice; the first one is read", f.key.name),
                )
                .help("keep one of them"),
            );
            // The first place, once.
            if fields[..i]
                .iter()
                .filter(|g| g.key.name == f.key.name)
                .count()
                == 1
            {
                cx.error(
                    first.key.span,
                    Message::new(
                        rules::DUPLICATE_KEY,
                        format!("`{}` is given twice: first here", f.key.name),
                    ),
                );
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
