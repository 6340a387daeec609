//! Overlay rules: the `x-mrs` extension field each overlay carries.
//!
//! Rules live with the overlays, not in the macro: the macro applies
//! whatever the overlays declare.
//!
//! ```yaml
//! x-mrs:
//!   overlay: maildev          # the name environments use (default: from the file name)
//!   about: a test SMTP server # shown in errors and `--help`
//!   first: true               # must be the first overlay merged
//!   after: [base, traefik]    # must come after these when they are merged too
//!   requires:
//!     persistence: persistent # or ephemeral
//!     tiers: [staging]        # only in these tiers
//!   forbids:
//!     tiers: [production]     # never in these tiers
//!   secrets: [SECRET_KEY]     # variables never written as literals in persistent environments
//! ```

use serde::{Deserialize, Serialize};

use mrs_compose::Location;
use mrs_compose::error::{Diagnostic, Kind, did_you_mean};
use mrs_compose::node::{Node, Value};

use crate::spec::{Persistence, Tier};

/// The rules one overlay declares.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverlayRules {
    /// The name environments use for the overlay.
    pub name: String,
    /// One line saying what the overlay adds.
    pub about: String,
    /// Must be merged first.
    pub first: bool,
    /// Overlays this one must follow when both are merged.
    pub after: Vec<Located<String>>,
    /// Only for environments of this persistence kind.
    pub persistence: Option<Located<PersistenceKind>>,
    /// Only in these tiers (empty: any).
    pub tiers: Vec<Tier>,
    /// Never in these tiers.
    pub forbidden_tiers: Vec<Tier>,
    /// Where the tier rules were written.
    pub tiers_at: Option<Location>,
    /// Variables that are secrets.
    pub secrets: Vec<String>,
    /// Where the `x-mrs` field starts.
    pub at: Option<Location>,
}

/// A value with the place the overlay wrote it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub at: Location,
}

/// Persistent or ephemeral, as a requirement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PersistenceKind {
    /// Has a home folder and keeps its data.
    Persistent,
    /// One per branch, removed after its lifetime.
    Ephemeral,
}

impl PersistenceKind {
    /// The kind of a persistence declaration.
    pub fn of(p: &Persistence) -> Self {
        match p {
            Persistence::Persistent { .. } => PersistenceKind::Persistent,
            Persistence::Ephemeral { .. } => PersistenceKind::Ephemeral,
        }
    }

    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            PersistenceKind::Persistent => "persistent",
            PersistenceKind::Ephemeral => "ephemeral",
        }
    }
}

const KEYS: &[&str] = &[
    "overlay", "about", "first", "after", "requires", "forbids", "secrets",
];

impl OverlayRules {
    /// Reads the `x-mrs` field of an overlay tree; `default_name` names the
    /// overlay when the field does not.
    pub fn from_tree(tree: &Node, default_name: &str) -> Result<OverlayRules, Vec<Diagnostic>> {
        let mut rules = OverlayRules {
            name: default_name.to_owned(),
            ..OverlayRules::default()
        };
        let Some(field) = tree.lookup(&["x-mrs"]) else {
            return Ok(rules);
        };
        rules.at = Some(field.at.clone());
        let mut errors = Vec::new();
        let Some(map) = field.as_map() else {
            return Err(vec![Diagnostic::new(
                Kind::Type,
                field.at.clone(),
                "`x-mrs` must be a mapping",
            )]);
        };
        for (key, entry) in map.entries() {
            let node = &entry.node;
            match key.as_str() {
                "overlay" => match node.as_str() {
                    Some(s) if is_overlay_name(s) => rules.name = s.to_owned(),
                    _ => errors.push(type_error(
                        node,
                        "`x-mrs.overlay` must be a lowercase name like `persist`",
                    )),
                },
                "about" => match node.as_str() {
                    Some(s) => rules.about = s.to_owned(),
                    None => errors.push(type_error(node, "`x-mrs.about` must be a string")),
                },
                "first" => match node.value {
                    Value::Bool(b) => rules.first = b,
                    _ => errors.push(type_error(node, "`x-mrs.first` must be true or false")),
                },
                "after" => match strings(node) {
                    Some(items) => rules.after = items,
                    None => errors.push(type_error(
                        node,
                        "`x-mrs.after` must be a list of overlay names",
                    )),
                },
                "secrets" => match strings(node) {
                    Some(items) => rules.secrets = items.into_iter().map(|l| l.value).collect(),
                    None => errors.push(type_error(
                        node,
                        "`x-mrs.secrets` must be a list of variable names",
                    )),
                },
                "requires" | "forbids" => read_conditions(key, node, &mut rules, &mut errors),
                other => errors.push(unknown(other, &entry.key_at, KEYS, "x-mrs")),
            }
        }
        if errors.is_empty() {
            Ok(rules)
        } else {
            Err(errors)
        }
    }
}

fn read_conditions(
    which: &str,
    node: &Node,
    rules: &mut OverlayRules,
    errors: &mut Vec<Diagnostic>,
) {
    let Some(map) = node.as_map() else {
        errors.push(type_error(
            node,
            &format!("`x-mrs.{which}` must be a mapping"),
        ));
        return;
    };
    for (key, entry) in map.entries() {
        let value = &entry.node;
        match (which, key.as_str()) {
            ("requires", "persistence") => match value.as_str() {
                Some("persistent") => {
                    rules.persistence = Some(Located {
                        value: PersistenceKind::Persistent,
                        at: value.at.clone(),
                    })
                }
                Some("ephemeral") => {
                    rules.persistence = Some(Located {
                        value: PersistenceKind::Ephemeral,
                        at: value.at.clone(),
                    })
                }
                _ => errors.push(type_error(
                    value,
                    "`persistence` must be `persistent` or `ephemeral`",
                )),
            },
            (_, "tiers") => {
                let Some(items) = strings(value) else {
                    errors.push(type_error(value, "`tiers` must be a list of tiers"));
                    continue;
                };
                rules.tiers_at = Some(value.at.clone());
                for item in items {
                    match Tier::parse(&item.value) {
                        Some(t) if which == "requires" => rules.tiers.push(t),
                        Some(t) => rules.forbidden_tiers.push(t),
                        None => errors.push(unknown(&item.value, &item.at, Tier::NAMES, "tier")),
                    }
                }
            }
            _ => {
                let allowed: &[&str] = if which == "requires" {
                    &["persistence", "tiers"]
                } else {
                    &["tiers"]
                };
                errors.push(unknown(
                    key,
                    &entry.key_at,
                    allowed,
                    &format!("x-mrs.{which}"),
                ));
            }
        }
    }
}

fn strings(node: &Node) -> Option<Vec<Located<String>>> {
    node.as_seq()?
        .iter()
        .map(|n| {
            n.as_str().map(|s| Located {
                value: s.to_owned(),
                at: n.at.clone(),
            })
        })
        .collect()
}

fn type_error(node: &Node, message: &str) -> Diagnostic {
    Diagnostic::new(Kind::Type, node.at.clone(), message)
}

fn unknown(key: &str, at: &Location, allowed: &[&str], what: &str) -> Diagnostic {
    let mut d = Diagnostic::new(
        Kind::UnknownKey,
        at.clone(),
        format!("unknown {what} key `{key}`"),
    );
    d = match did_you_mean(key, allowed.iter().copied()) {
        Some(s) => d.with_help(format!("did you mean `{s}`?")),
        None => d.with_help(format!("expected one of: {}", allowed.join(", "))),
    };
    d
}

/// Whether `name` can name an overlay (and a Rust identifier in the DSL).
pub fn is_overlay_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use mrs_compose::yaml::load;

    #[test]
    fn reads_rules() {
        let tree = load(
            "m.yml",
            "x-mrs:\n  overlay: maildev\n  after: [base]\n  forbids: {tiers: [production]}\n  requires: {persistence: persistent}\n  secrets: [A]\n",
        )
        .expect("yaml");
        let r = OverlayRules::from_tree(&tree, "x").expect("rules");
        assert_eq!(r.name, "maildev");
        assert_eq!(r.after[0].value, "base");
        assert_eq!(r.forbidden_tiers, [Tier::Production]);
        assert_eq!(
            r.persistence.map(|p| p.value),
            Some(PersistenceKind::Persistent)
        );
        assert_eq!(r.secrets, ["A"]);
    }

    #[test]
    fn rejects_unknown_rule_keys() {
        let tree = load(
            "m.yml",
            "x-mrs:\n  forbid: {tiers: [production]}\n  requires: {tiers: [prod]}\n",
        )
        .expect("yaml");
        let e = OverlayRules::from_tree(&tree, "x").expect_err("invalid");
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].help.as_deref(), Some("did you mean `forbids`?"));
        assert_eq!(e[1].help.as_deref(), Some("did you mean `production`?"));
    }
}
