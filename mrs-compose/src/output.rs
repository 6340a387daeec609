//! Writes a project in compose's canonical form, as YAML or JSON.
//!
//! Literal `$` in values are written as `$$`, so that the output can be fed
//! back to `docker compose -f -` (which interpolates again) unchanged.
//! Strings are quoted whenever a YAML 1.1 reader (docker-compose 1.29,
//! PyYAML) or a YAML 1.2 one would take them for something else (`yes`,
//! `on`, `0755`, `2222:22`); keys longer than YAML's 1,024 characters for
//! a plain key are written as explicit keys (`? key`).

use serde_json::Value;

use crate::error::{Diagnostic, Kind};
use crate::location::Location;
use crate::model::Project;
use crate::yaml::plain_scalar;

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Block-style YAML.
    Yaml,
    /// Pretty-printed JSON.
    Json,
    /// YAML that docker-compose v1 (1.29) also reads: only the keys and
    /// forms that version understands (see [`try_render_with`]).
    YamlV1,
}

/// Renders a project.
pub fn render(project: &Project, format: Format) -> String {
    render_with(project, format, &|s| s.to_owned())
}

/// Renders a project, passing every string value through `map` first (to mask secrets).
///
/// For [`Format::YamlV1`], a project docker-compose 1.29 cannot read gives
/// a YAML comment naming what it cannot express (which that version then
/// refuses as an empty file); [`try_render_with`] returns the error instead.
pub fn render_with(project: &Project, format: Format, map: &dyn Fn(&str) -> String) -> String {
    try_render_with(project, format, map).unwrap_or_else(|e| format!("# error: {}\n", e.message))
}

/// Renders a project, or says which key docker-compose 1.29 cannot read
/// (for [`Format::YamlV1`]; the other formats always succeed).
pub fn try_render_with(
    project: &Project,
    format: Format,
    map: &dyn Fn(&str) -> String,
) -> Result<String, Diagnostic> {
    let mut value = escape_dollars(map_strings(
        serde_json::to_value(project).unwrap_or(Value::Null),
        map,
    ));
    Ok(match format {
        Format::Json => serde_json::to_string_pretty(&value).unwrap_or_default() + "\n",
        Format::Yaml => to_yaml(&value),
        Format::YamlV1 => {
            crate::output_v1::convert(&mut value).map_err(|why| {
                Diagnostic::new(
                    Kind::Unsupported,
                    Location::synthetic("--format yaml-v1"),
                    format!("docker-compose 1.29 cannot read this project: {why}"),
                )
                .with_help("print it with --format yaml or json instead")
            })?;
            to_yaml(&value)
        }
    })
}

fn map_strings(value: Value, map: &dyn Fn(&str) -> String) -> Value {
    match value {
        Value::String(s) => Value::String(map(&s)),
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| map_strings(v, map)).collect())
        }
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, map_strings(v, map)))
                .collect(),
        ),
        other => other,
    }
}

fn escape_dollars(value: Value) -> Value {
    match value {
        Value::String(s) => Value::String(s.replace('$', "$$")),
        Value::Array(items) => Value::Array(items.into_iter().map(escape_dollars).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, escape_dollars(v)))
                .collect(),
        ),
        other => other,
    }
}

/// Block-style YAML for a JSON value.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(map, 0, &mut out),
        Value::Array(items) if !items.is_empty() => write_seq(items, 0, &mut out),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
    out
}

fn write_map(map: &serde_json::Map<String, Value>, indent: usize, out: &mut String) {
    for (k, v) in map {
        out.push_str(&" ".repeat(indent));
        let key = string(k);
        if key.chars().count() > MAX_IMPLICIT_KEY {
            // An explicit key: `? key` then `: value` on the next line.
            out.push_str("? ");
            out.push_str(&key);
            out.push('\n');
            out.push_str(&" ".repeat(indent));
        } else {
            out.push_str(&key);
        }
        out.push(':');
        write_child(v, indent, out);
    }
}

/// The longest plain (implicit) key YAML allows, in characters.
const MAX_IMPLICIT_KEY: usize = 1024;

fn write_seq(items: &[Value], indent: usize, out: &mut String) {
    for v in items {
        out.push_str(&" ".repeat(indent));
        out.push('-');
        match v {
            Value::Object(map) if !map.is_empty() => {
                // First entry on the dash line, the rest aligned under it.
                let mut inner = String::new();
                write_map(map, indent + 2, &mut inner);
                out.push(' ');
                out.push_str(inner.trim_start());
            }
            _ => write_child(v, indent, out),
        }
    }
}

fn write_child(v: &Value, indent: usize, out: &mut String) {
    match v {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(map, indent + 2, out);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(items, indent + 2, out);
        }
        other => {
            out.push(' ');
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

/// A string as a YAML scalar: plain when every YAML 1.1 and 1.2 reader
/// reads it back as this same string, else double-quoted.
fn string(s: &str) -> String {
    let plain_ok = s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '/')
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-' | '@' | '+' | '=')
        })
        && !is_yaml11_word(s)
        && matches!(plain_scalar(s), crate::node::Value::Str(_));
    if plain_ok {
        s.to_owned()
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}

/// Words YAML 1.1 reads as booleans or null (`yes`, `No`, `ON`, `y`, `~`...).
fn is_yaml11_word(s: &str) -> bool {
    matches!(
        s.to_ascii_lowercase().as_str(),
        "y" | "yes" | "n" | "no" | "true" | "false" | "on" | "off" | "null"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_reads_back_as_the_same_value() {
        let value = serde_json::json!({
            "services": {"a": {"image": "x:1", "environment": {"A": "1", "B": "true", "C": "", "D": "a: b # c"},
            "ports": [{"target": 80, "published": "8080"}], "command": ["sh", "-c", "echo hi"]}},
            "x-e": [[], {}, null, 1.5, "-x"]
        });
        let text = to_yaml(&value);
        let back = crate::yaml::load("out.yml", &text)
            .expect("valid yaml")
            .to_json();
        assert_eq!(back, value, "{text}");
    }

    #[test]
    fn yaml11_lookalikes_are_quoted() {
        let words = [
            "yes", "No", "ON", "off", "y", "n", "2222:22", "0755", "1e3", "~", "null", "=", "<<",
            ".inf", "-x", "12:30:00",
        ];
        let value = serde_json::Value::Array(words.iter().map(|w| serde_json::json!(w)).collect());
        let text = to_yaml(&value);
        for (line, word) in text.lines().zip(words) {
            assert_eq!(line, format!("- {}", serde_json::json!(word)), "{text}");
        }
        // Ordinary words stay plain.
        assert_eq!(
            to_yaml(&serde_json::json!(["nginx", "yesterday", "/app/x-1.2"])),
            "- nginx\n- yesterday\n- /app/x-1.2\n"
        );
    }

    #[test]
    fn long_keys_are_explicit_and_read_back() {
        let long_key = format!("label.{}\u{1}end", "k".repeat(1100));
        let value = serde_json::json!({"services": {"a": {"labels": {long_key.clone(): "v", "short": "w"}, "x-deep": {long_key.clone(): {"nested": true}}}}});
        let text = to_yaml(&value);
        assert!(text.contains("? \"label."), "{text}");
        let back = crate::yaml::load("out.yml", &text)
            .expect("valid yaml")
            .to_json();
        assert_eq!(back, value);
    }

    #[test]
    fn dollars_are_escaped() {
        let p = Project {
            name: Some("p".into()),
            ..Project::default()
        };
        let mut p = p;
        p.services.insert(
            "a".into(),
            crate::model::Service {
                image: Some("$x".into()),
                ..Default::default()
            },
        );
        assert!(render(&p, Format::Yaml).contains("\"$$x\""));
    }
}
