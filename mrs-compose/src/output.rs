//! Writes a project in compose's canonical form, as YAML or JSON.
//!
//! Literal `$` in values are written as `$$`, so that the output can be fed
//! back to `docker compose -f -` (which interpolates again) unchanged.

use serde_json::Value;

use crate::model::Project;
use crate::yaml::plain_scalar;

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Block-style YAML.
    Yaml,
    /// Pretty-printed JSON.
    Json,
    /// YAML that docker-compose v1 (1.29) also reads: no top-level `name`,
    /// no `bind.create_host_path` (v1 always creates bind sources).
    YamlV1,
}

/// Renders a project.
pub fn render(project: &Project, format: Format) -> String {
    render_with(project, format, &|s| s.to_owned())
}

/// Renders a project, passing every string value through `map` first (to mask secrets).
pub fn render_with(project: &Project, format: Format, map: &dyn Fn(&str) -> String) -> String {
    let mut value = escape_dollars(map_strings(
        serde_json::to_value(project).unwrap_or(Value::Null),
        map,
    ));
    match format {
        Format::Json => serde_json::to_string_pretty(&value).unwrap_or_default() + "\n",
        Format::Yaml => to_yaml(&value),
        Format::YamlV1 => {
            to_v1(&mut value);
            to_yaml(&value)
        }
    }
}

fn to_v1(value: &mut Value) {
    let Some(root) = value.as_object_mut() else {
        return;
    };
    root.remove("name");
    let services = root.get_mut("services").and_then(Value::as_object_mut);
    for service in services.into_iter().flat_map(|s| s.values_mut()) {
        let volumes = service.get_mut("volumes").and_then(Value::as_array_mut);
        for volume in volumes.into_iter().flatten() {
            // v1 creates missing bind sources only for the short syntax.
            let short = match (
                volume.get("type"),
                volume.get("source"),
                volume.get("target"),
            ) {
                (Some(Value::String(t)), Some(Value::String(s)), Some(Value::String(d)))
                    if t == "bind" =>
                {
                    let mode = if volume.get("read_only") == Some(&Value::Bool(true)) {
                        "ro"
                    } else {
                        "rw"
                    };
                    Some(format!("{s}:{d}:{mode}"))
                }
                _ => None,
            };
            if let Some(short) = short {
                *volume = Value::String(short);
            }
        }
    }
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
        out.push_str(&string(k));
        out.push(':');
        write_child(v, indent, out);
    }
}

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

/// A string as a YAML scalar: plain when it reads back as the same string, else double-quoted.
fn string(s: &str) -> String {
    let plain_ok = !s.is_empty()
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-' | '@' | '+' | '=')
        })
        && !s.starts_with(['-', '.', '@'])
        && matches!(plain_scalar(s), crate::node::Value::Str(_));
    if plain_ok {
        s.to_owned()
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
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
