//! The variable index: every variable a set of overlays needs, with each
//! place it is used, its default and whether it is required.

use std::sync::Arc;

use indexmap::IndexMap;
use serde::Serialize;

use crate::interpolate::{self, Op};
use crate::location::Location;
use crate::node::{Node, PathItem, Value};
use crate::overlay::Overlay;

/// How a variable is used at one place.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UseKind {
    /// `$VAR` / `${VAR...}` in a value.
    Interpolation,
    /// A bare `- VAR` (or `VAR:` with no value) in a service's `environment`:
    /// the value comes from the deployer's environment, else it is unset.
    Environment,
}

/// One place a variable is used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VariableUse {
    /// Where (the `$`, or the environment entry).
    pub at: Location,
    /// Interpolation or bare environment entry.
    pub kind: UseKind,
    /// The modifier (`:-`, `?`, ...), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub op: Option<&'static str>,
    /// The default (`:-`/`-`) as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The replacement (`:+`/`+`) as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alternate: Option<String>,
    /// Whether this use needs a value: it fails (`:?`/`?`) or is blank without one.
    pub required: bool,
    /// Whether this use fails without a value (`:?`/`?`): what compose calls required.
    pub must_be_set: bool,
    /// Whether the reference sits inside another one's default.
    pub nested: bool,
    /// The whole value the variable appears in (the line of YAML, unquoted),
    /// shared by every reference in it.
    pub context: Arc<str>,
    /// The path of the value, like `services.django.labels[3]`.
    pub path: String,
}

/// A variable and all its uses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Variable {
    /// Its name.
    pub name: String,
    /// Needed when any use has no default (a missing value gives a blank or an error).
    pub required: bool,
    /// Required as compose's `config --variables` says: some use fails
    /// without a value (`${NAME?...}`, `${NAME:?...}`).
    pub must_be_set: bool,
    /// The first default written for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The first replacement written for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alternate: Option<String>,
    /// Every use, in file order.
    pub uses: Vec<VariableUse>,
}

/// Variables by name, in order of first use.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct VariableIndex {
    /// The variables.
    pub variables: IndexMap<String, Variable>,
}

impl VariableIndex {
    /// Indexes the variables of `overlays`.
    pub fn build<'a>(overlays: impl IntoIterator<Item = &'a Overlay>) -> VariableIndex {
        let mut index = VariableIndex::default();
        for overlay in overlays {
            index.add_tree(&overlay.tree);
        }
        index
    }

    /// Adds the uses in one tree.
    pub fn add_tree(&mut self, tree: &Node) {
        let mut path = Vec::new();
        tree.walk(&mut path, &mut |path, node| {
            let Value::Str(text) = &node.value else {
                self.add_bare_env(path, node);
                return;
            };
            let Ok(template) = interpolate::parse(text, &node.at) else {
                return;
            };
            let single_line = !text.contains('\n');
            let context: Arc<str> = Arc::from(text.as_str());
            for (var, nested) in interpolate::references(&template) {
                let at = if single_line {
                    node.at.shifted(var.offset)
                } else {
                    node.at.clone()
                };
                let arg = var.op.map(|_| var.arg_text.clone());
                let (default, alternate) = match var.op {
                    Some(Op::DefaultIfEmpty | Op::DefaultIfUnset) => (arg, None),
                    Some(Op::AltIfNonEmpty | Op::AltIfSet) => (None, arg),
                    _ => (None, None),
                };
                let required = !var.op.is_some_and(Op::has_default);
                let must_be_set = matches!(var.op, Some(Op::RequireNonEmpty | Op::RequireSet));
                self.push(
                    &var.name,
                    VariableUse {
                        at,
                        kind: UseKind::Interpolation,
                        op: var.op.map(Op::as_str),
                        default,
                        alternate,
                        required,
                        must_be_set,
                        nested,
                        context: context.clone(),
                        path: crate::node::path_string(path),
                    },
                );
            }
            self.add_bare_env(path, node);
        });
    }

    fn add_bare_env(&mut self, path: &[PathItem<'_>], node: &Node) {
        let is_env = |p: &[PathItem<'_>]| {
            matches!(
                p,
                [
                    PathItem::Key("services"),
                    PathItem::Key(_),
                    PathItem::Key("environment"),
                    ..
                ]
            )
        };
        match (path, &node.value) {
            // `- NAME` in list form.
            ([.., PathItem::Index(_)], Value::Str(text))
                if path.len() == 4 && is_env(path) && !text.contains('=') =>
            {
                self.push_env(text, node, path);
            }
            // `NAME:` with no value in map form.
            ([.., PathItem::Key(name)], Value::Null) if path.len() == 4 && is_env(path) => {
                self.push_env(name, node, path);
            }
            _ => {}
        }
    }

    fn push_env(&mut self, name: &str, node: &Node, path: &[PathItem<'_>]) {
        if !interpolate::is_var_name(name) {
            return;
        }
        self.push(
            name,
            VariableUse {
                at: node.at.clone(),
                kind: UseKind::Environment,
                op: None,
                default: None,
                alternate: None,
                required: false,
                must_be_set: false,
                nested: false,
                context: Arc::from(format!("- {name}")),
                path: crate::node::path_string(path),
            },
        );
    }

    fn push(&mut self, name: &str, u: VariableUse) {
        let var = self
            .variables
            .entry(name.to_owned())
            .or_insert_with(|| Variable {
                name: name.to_owned(),
                required: false,
                must_be_set: false,
                default: None,
                alternate: None,
                uses: Vec::new(),
            });
        if u.kind == UseKind::Interpolation && u.required && !u.nested {
            var.required = true;
        }
        var.must_be_set |= u.must_be_set;
        if var.default.is_none() {
            var.default.clone_from(&u.default);
        }
        if var.alternate.is_none() {
            var.alternate.clone_from(&u.alternate);
        }
        var.uses.push(u);
    }

    /// The variable named `name`.
    pub fn get(&self, name: &str) -> Option<&Variable> {
        self.variables.get(name)
    }

    /// Variable names in order of first use.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.variables.keys().map(String::as_str)
    }

    /// A table like `docker compose config --variables` (REQUIRED as compose
    /// means it: the variable fails without a value), plus the places.
    pub fn table(&self) -> String {
        let mut rows = vec![[
            "NAME".to_owned(),
            "REQUIRED".into(),
            "DEFAULT VALUE".into(),
            "ALTERNATE VALUE".into(),
            "USED AT".into(),
        ]];
        for v in self.variables.values() {
            let places: Vec<String> = v
                .uses
                .iter()
                .map(|u| match u.kind {
                    UseKind::Interpolation => u.at.to_string(),
                    UseKind::Environment => format!("{} (environment)", u.at),
                })
                .collect();
            rows.push([
                v.name.clone(),
                v.must_be_set.to_string(),
                v.default.clone().unwrap_or_default(),
                v.alternate.clone().unwrap_or_default(),
                places.join(", "),
            ]);
        }
        let widths: Vec<usize> = (0..4)
            .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
            .collect();
        rows.iter()
            .map(|r| {
                let mut line = String::new();
                for (i, cell) in r.iter().enumerate() {
                    if i < 4 {
                        line.push_str(&format!("{cell:<width$}   ", width = widths[i]));
                    } else {
                        line.push_str(cell);
                    }
                }
                line.trim_end().to_owned() + "\n"
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_interpolations_and_bare_environment_entries() {
        let base = Overlay::parse("base.yml", "services:\n  d:\n    environment:\n    - HOST\n    - A=${X:-dx}\n    labels:\n    - \"r.${SLUG}.x=${HOST}\"\n").expect("base");
        let persist = Overlay::parse("persist.yml", "services:\n  d:\n    sysctls:\n      net.core.somaxconn: '${LISTEN}'\n    environment:\n      SECRET_KEY:\n    command: ${CMD:?set CMD}\n").expect("persist");
        let index = VariableIndex::build([&base, &persist]);
        let names: Vec<&str> = index.names().collect();
        assert_eq!(names, ["HOST", "X", "SLUG", "LISTEN", "SECRET_KEY", "CMD"]);
        let host = index.get("HOST").expect("HOST");
        assert_eq!(host.uses.len(), 2);
        assert_eq!(host.uses[0].kind, UseKind::Environment);
        assert_eq!(host.uses[0].at.to_string(), "base.yml:4:7");
        assert_eq!(host.uses[1].at.to_string(), "base.yml:7:20");
        let x = index.get("X").expect("X");
        assert_eq!((x.required, x.default.as_deref()), (false, Some("dx")));
        let listen = index.get("LISTEN").expect("LISTEN");
        assert!(listen.required);
        assert_eq!(listen.uses[0].at.to_string(), "persist.yml:4:28");
        assert_eq!(listen.uses[0].path, "services.d.sysctls.net.core.somaxconn");
        assert_eq!(
            index.get("SECRET_KEY").map(|v| v.uses[0].kind.clone()),
            Some(UseKind::Environment)
        );
        assert_eq!(index.get("CMD").and_then(|v| v.uses[0].op), Some(":?"));
        let table = index.table();
        assert!(table.starts_with("NAME "), "{table}");
        assert!(table.contains("persist.yml:4:28"), "{table}");
    }
}
