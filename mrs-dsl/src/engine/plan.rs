//! The plan: what `up` would do, computed from desired and observed state.
//! `plan` prints it; `up` executes exactly it.

use std::fmt::Write as _;

use serde::Serialize;

use super::desired::Desired;
use super::journal::{self, Interrupted};
use super::observe::{self, Observed, ObservedContainer};
use super::{Engine, Error, diff};

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
    /// Labelled as a service's container but not named as ours: never touched.
    Stray,
}

/// What a step is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    /// A network.
    Network,
    /// A named volume.
    Volume,
    /// A host folder.
    Folder,
    /// A container.
    Container,
}

impl StepKind {
    /// The word used in the text plan.
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Network => "network",
            StepKind::Volume => "volume",
            StepKind::Folder => "folder",
            StepKind::Container => "container",
        }
    }
}

/// A resource and its action.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// What it is.
    pub kind: StepKind,
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
    /// Deploys that did not end; `up` recovers them before the steps.
    pub interrupted: Vec<Interrupted>,
    /// Steps in execution order.
    pub steps: Vec<Step>,
    /// Images the engine does not have.
    pub missing_images: Vec<String>,
    /// What the engine has.
    #[serde(skip)]
    pub observed: Observed,
    /// The project's service containers as they are once recovery is done.
    #[serde(skip)]
    pub view: Vec<ObservedContainer>,
}

impl Plan {
    /// The action planned for a resource of `kind` named `name`.
    pub fn action(&self, kind: StepKind, name: &str) -> Option<&Action> {
        self.steps
            .iter()
            .find(|s| s.kind == kind && s.name == name)
            .map(|s| &s.action)
    }

    /// Whether `up` would change anything (recovering an interrupted deploy is a change).
    pub fn is_noop(&self) -> bool {
        self.interrupted.is_empty()
            && self.missing_images.is_empty()
            && self
                .steps
                .iter()
                .all(|s| matches!(s.action, Action::Keep | Action::KeepOrphan | Action::Stray))
    }

    /// The local ID of an image, when the engine has it.
    pub fn image_id(&self, reference: &str) -> Option<&str> {
        self.observed
            .images
            .get(reference)
            .and_then(Option::as_ref)
            .map(|i| i.id.as_str())
    }

    /// The container that currently holds `name` (after recovery).
    pub fn current(&self, name: &str) -> Option<&ObservedContainer> {
        self.view.iter().find(|o| o.name == name && !o.oneoff)
    }

    /// Counts per action, for the summary line.
    pub fn summary(&self) -> String {
        let count = |f: fn(&Action) -> bool| self.steps.iter().filter(|s| f(&s.action)).count();
        let recover = if self.interrupted.is_empty() {
            String::new()
        } else {
            format!(
                "{} interrupted deploy(s) to recover, ",
                self.interrupted.len()
            )
        };
        format!(
            "{recover}{} to create, {} to recreate, {} to start, {} unchanged, {} to remove",
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
        for i in &self.interrupted {
            let _ = writeln!(out, "  ! {}", i.describe());
        }
        for s in &self.steps {
            let (sign, what) = match &s.action {
                Action::Create => ("+", "create".to_owned()),
                Action::Recreate(why) => ("~", format!("recreate ({})", why.join("; "))),
                Action::Keep => ("=", "unchanged".to_owned()),
                Action::Start => (">", "start".to_owned()),
                Action::Remove => ("-", "remove orphan".to_owned()),
                Action::KeepOrphan => ("!", "orphan, kept (use --remove-orphans)".to_owned()),
                Action::Stray => (
                    "!",
                    "carries a service's labels but is not ours: left alone".to_owned(),
                ),
            };
            let detail = if s.detail.is_empty() {
                String::new()
            } else {
                format!(" [{}]", s.detail)
            };
            let _ = writeln!(
                out,
                "  {sign} {} {}{detail}: {what}",
                s.kind.as_str(),
                s.name
            );
        }
        for m in &self.missing_images {
            let _ = writeln!(out, "  ! image {m} is not on the engine");
        }
        let _ = writeln!(out, "{}.", self.summary());
        out
    }
}

/// Observes the engine and computes the plan.
pub async fn plan(
    engine: &Engine,
    env: &str,
    desired: &Desired,
    remove_orphans: bool,
) -> Result<Plan, Error> {
    let observed = observe::observe(engine, desired).await?;
    Ok(from_observed(
        engine,
        env,
        desired,
        observed,
        remove_orphans,
    ))
}

/// The plan for what was observed (pure but for the engine's address).
pub fn from_observed(
    engine: &Engine,
    env: &str,
    desired: &Desired,
    observed: Observed,
    remove_orphans: bool,
) -> Plan {
    let interrupted = journal::interrupted(&observed.containers);
    let view = journal::after_recovery(&observed.containers, &interrupted);
    let steps = diff::diff(desired, &observed, &view, remove_orphans);
    let missing_images = observed
        .images
        .iter()
        .filter(|(_, i)| i.is_none())
        .map(|(r, _)| r.clone())
        .collect();
    Plan {
        env: env.to_owned(),
        project: desired.project.clone(),
        engine: engine.host.clone(),
        interrupted,
        steps,
        missing_images,
        observed,
        view,
    }
}
