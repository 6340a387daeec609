//! The plan: what `up` would do, computed from desired and observed state.
//! `plan` prints it; `up` executes exactly it.

use std::fmt::Write as _;

use serde::Serialize;

use super::desired::{Desired, Folder};
use super::observed::{self, ObservedContainer};
use super::{Engine, Error};

/// What happens to one resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Created.
    Create,
    /// Replaced, for these reasons.
    Recreate(Vec<String>),
    /// Left as is.
    Keep,
    /// Left as is, but started (it is stopped).
    Start,
    /// Removed (an orphan: its service is no longer in the project).
    Remove,
    /// An orphan left alone (pass `--remove-orphans` to remove it).
    KeepOrphan,
}

/// A resource and its action.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// `network`, `volume`, `folder` or `container`.
    pub kind: &'static str,
    /// Engine name or path.
    pub name: String,
    /// Service, for containers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The action.
    pub action: Action,
    /// Details (image, external, owner...).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// The whole plan.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    /// Environment name.
    pub env: String,
    /// Project name.
    pub project: String,
    /// Engine address.
    pub engine: String,
    /// Steps in execution order.
    pub steps: Vec<Step>,
    /// Images the engine does not have.
    pub missing_images: Vec<String>,
    /// Local image IDs, by reference.
    #[serde(skip)]
    pub image_ids: std::collections::HashMap<String, String>,
    /// The project's current containers.
    #[serde(skip)]
    pub observed: Vec<ObservedContainer>,
}

impl Plan {
    /// The action planned for a resource of `kind` named `name`.
    pub fn action(&self, kind: &str, name: &str) -> Option<&Action> {
        self.steps
            .iter()
            .find(|s| s.kind == kind && s.name == name)
            .map(|s| &s.action)
    }

    /// Whether `up` would change anything.
    pub fn is_noop(&self) -> bool {
        self.missing_images.is_empty()
            && self
                .steps
                .iter()
                .all(|s| matches!(s.action, Action::Keep | Action::KeepOrphan))
    }

    /// Counts per action, for the summary line.
    pub fn summary(&self) -> String {
        let count = |f: fn(&Action) -> bool| self.steps.iter().filter(|s| f(&s.action)).count();
        format!(
            "{} to create, {} to recreate, {} to start, {} unchanged, {} to remove",
            count(|a| *a == Action::Create),
            count(|a| matches!(a, Action::Recreate(_))),
            count(|a| *a == Action::Start),
            count(|a| *a == Action::Keep),
            count(|a| *a == Action::Remove),
        )
    }

    /// The plan as text, `terraform plan` style.
    pub fn render(&self) -> String {
        let mut out = format!(
            "Plan for `{}` (project {}) on {}\n",
            self.env, self.project, self.engine
        );
        for s in &self.steps {
            let (sign, what) = match &s.action {
                Action::Create => ("+", "create".to_owned()),
                Action::Recreate(why) => ("~", format!("recreate ({})", why.join("; "))),
                Action::Keep => ("=", "unchanged".to_owned()),
                Action::Start => (">", "start".to_owned()),
                Action::Remove => ("-", "remove orphan".to_owned()),
                Action::KeepOrphan => ("!", "orphan, kept (use --remove-orphans)".to_owned()),
            };
            let detail = if s.detail.is_empty() {
                String::new()
            } else {
                format!(" [{}]", s.detail)
            };
            let _ = writeln!(out, "  {sign} {} {}{detail}: {what}", s.kind, s.name);
        }
        for m in &self.missing_images {
            let _ = writeln!(out, "  ! image {m} is not on the engine");
        }
        let _ = writeln!(out, "{}.", self.summary());
        out
    }
}

/// Computes the plan.
pub async fn plan(
    engine: &Engine,
    env: &str,
    desired: &Desired,
    remove_orphans: bool,
) -> Result<Plan, Error> {
    let mut steps = Vec::new();
    for n in &desired.networks {
        let exists = observed::network(engine, &n.name).await?.is_some();
        let detail = if n.config.external {
            "external".to_owned()
        } else {
            String::new()
        };
        steps.push(Step {
            kind: "network",
            name: n.name.clone(),
            service: None,
            action: if exists { Action::Keep } else { Action::Create },
            detail,
        });
    }
    for v in &desired.volumes {
        let exists = observed::volume(engine, &v.name).await?;
        let detail = if v.config.external {
            "external".to_owned()
        } else {
            String::new()
        };
        steps.push(Step {
            kind: "volume",
            name: v.name.clone(),
            service: None,
            action: if exists { Action::Keep } else { Action::Create },
            detail,
        });
    }
    for f in &desired.folders {
        steps.push(folder_step(f));
    }
    let mut image_ids = std::collections::HashMap::new();
    let mut missing_images = Vec::new();
    for c in &desired.containers {
        if image_ids.contains_key(&c.image) || missing_images.contains(&c.image) {
            continue;
        }
        match observed::image_id(engine, &c.image).await? {
            Some(id) => {
                image_ids.insert(c.image.clone(), id);
            }
            None => missing_images.push(c.image.clone()),
        }
    }
    let observed = observed::containers(engine, &desired.project).await?;
    for c in &desired.containers {
        let current: Vec<&ObservedContainer> = observed
            .iter()
            .filter(|o| o.service == c.service && !o.oneoff && o.rollback_of.is_none())
            .collect();
        let action = match current.iter().find(|o| o.number == c.number) {
            None => Action::Create,
            Some(o) => {
                let mut why = Vec::new();
                if o.hash != c.hash {
                    let changed: Vec<&str> = c
                        .key_hashes
                        .iter()
                        .filter(|(k, v)| o.key_hashes.get(*k) != Some(v))
                        .map(|(k, _)| k.as_str())
                        .chain(
                            o.key_hashes
                                .keys()
                                .filter(|k| !c.key_hashes.contains_key(*k))
                                .map(String::as_str),
                        )
                        .collect();
                    why.push(if changed.is_empty() {
                        "configuration changed".to_owned()
                    } else {
                        format!("{} changed", changed.join(", "))
                    });
                }
                match image_ids.get(&c.image) {
                    Some(id) if *id != o.image_id => {
                        why.push(format!("image {} now points to another image", c.image))
                    }
                    _ => {}
                }
                if o.state == "running" {
                    let missing: Vec<&str> = c
                        .networks
                        .iter()
                        .map(|(n, _)| n.as_str())
                        .filter(|n| !o.networks.iter().any(|x| x == n))
                        .collect();
                    if !missing.is_empty() {
                        why.push(format!("not attached to {}", missing.join(", ")));
                    }
                }
                if !why.is_empty() {
                    Action::Recreate(why)
                } else if o.state == "running" {
                    Action::Keep
                } else {
                    Action::Start
                }
            }
        };
        steps.push(Step {
            kind: "container",
            name: c.name.clone(),
            service: Some(c.service.clone()),
            action,
            detail: c.image.clone(),
        });
    }
    for o in &observed {
        let known = desired
            .containers
            .iter()
            .any(|c| c.service == o.service && c.number == o.number);
        if !known && o.rollback_of.is_none() {
            let action = if remove_orphans {
                Action::Remove
            } else {
                Action::KeepOrphan
            };
            steps.push(Step {
                kind: "container",
                name: o.name.clone(),
                service: Some(o.service.clone()),
                action,
                detail: String::new(),
            });
        }
    }
    Ok(Plan {
        env: env.to_owned(),
        project: desired.project.clone(),
        engine: engine.host.clone(),
        steps,
        missing_images,
        image_ids,
        observed,
    })
}

fn folder_step(f: &Folder) -> Step {
    let detail = match (f.owner, f.mode) {
        (Some((u, g)), Some(m)) => format!("{u}:{g} {m:04o}"),
        (Some((u, g)), None) => format!("{u}:{g}"),
        _ => String::new(),
    };
    let action = match std::fs::metadata(&f.path) {
        Ok(meta) if folder_matches(f, &meta) => Action::Keep,
        Ok(_) => Action::Recreate(vec![
            "owner or mode differs (fixed in place, data kept)".into(),
        ]),
        Err(_) => Action::Create,
    };
    Step {
        kind: "folder",
        name: f.path.display().to_string(),
        service: None,
        action,
        detail,
    }
}

fn folder_matches(f: &Folder, meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let owner_ok = f
        .owner
        .is_none_or(|(u, g)| meta.uid() == u && meta.gid() == g);
    let mode_ok = f
        .mode
        .is_none_or(|m| meta.permissions().mode() & 0o7777 == m);
    meta.is_dir() && owner_ok && mode_ok
}
