//! The environment spec: what a `deployment!` expansion embeds and its
//! binary runs. No YAML is read at run time: the spec carries the overlays
//! already merged and interpolated with every compile-time value, run-time
//! inputs and secrets left as `${NAME}` expressions, and no secret value.

use std::path::PathBuf;
use std::time::Duration;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use mrs_compose::error::{Diagnostic, Diagnostics, Kind};
use mrs_compose::interpolate::{self, Binding, Evaluated, Resolve};
use mrs_compose::model::Project;
use mrs_compose::node::Node;
use mrs_compose::{Location, project_name};

use crate::realise::realise;
use crate::secret::{Redactor, Secret};
pub use crate::vars::{Derivation, VarSource, VarTable};

/// How much an environment matters; rules differ by tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// A developer's machine.
    Development,
    /// A short-lived environment per branch.
    Review,
    /// Pre-production.
    Staging,
    /// Serves real users (production, ecole).
    Production,
}

impl Tier {
    /// The names the DSL and overlay rules accept.
    pub const NAMES: &'static [&'static str] = &["development", "review", "staging", "production"];

    /// Parses a tier name.
    pub fn parse(name: &str) -> Option<Tier> {
        match name {
            "development" => Some(Tier::Development),
            "review" => Some(Tier::Review),
            "staging" => Some(Tier::Staging),
            "production" => Some(Tier::Production),
            _ => None,
        }
    }

    /// Whether environments of this tier must run pinned images (a tag that
    /// does not move, or a digest): see [`crate::images::check_pinned`].
    pub fn requires_pinned_images(self) -> bool {
        self == Tier::Production
    }

    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Development => "development",
            Tier::Review => "review",
            Tier::Staging => "staging",
            Tier::Production => "production",
        }
    }
}

/// Where an environment keeps its state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Persistence {
    /// A fixed home folder (data, logs, deploy log) and project name.
    Persistent {
        /// Absolute home folder.
        home: String,
        /// Compose project name.
        project: String,
    },
    /// One per branch: project name chosen at run time, state under `root`.
    Ephemeral {
        /// Project name template (`test-${BRANCH_SLUG}`).
        project: String,
        /// Folder holding one sub-folder per project.
        root: String,
        /// How long it lives after its last deployment.
        lifetime_secs: u64,
    },
}

impl Persistence {
    /// The folder of the project named `project_name` (bind mounts resolve
    /// against it): the home of a persistent environment, `root/<project>` for
    /// an ephemeral one. With a project name template, the home's template.
    pub fn home(&self, project_name: &str) -> PathBuf {
        match self {
            Persistence::Persistent { home, .. } => PathBuf::from(home),
            Persistence::Ephemeral { root, .. } => {
                PathBuf::from(format!("{}/{project_name}", root.trim_end_matches('/')))
            }
        }
    }
}

/// The HTTP check run after `up`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthSpec {
    /// URL template (`http://${HOST}/?test=${uuid}`).
    pub url: String,
    /// Basic auth user and the variable holding the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuthSpec>,
    /// No basic auth when this variable is set and not empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unless: Option<String>,
    /// How long to retry.
    pub timeout_secs: u64,
    /// Expected status.
    pub expect: u16,
    /// Connect to this `host:port` instead of the URL's host (the Host header stays).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_to: Option<String>,
}

impl HealthSpec {
    /// How long the check retries when the environment does not say.
    pub const DEFAULT_TIMEOUT_SECS: u64 = 60;
    /// The status expected when the environment does not say.
    pub const DEFAULT_EXPECT: u16 = 200;
}

/// Basic auth credentials for the health check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BasicAuthSpec {
    /// User name (literal).
    pub user: String,
    /// Variable holding the password.
    pub password: String,
}

/// An overlay an environment merges.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverlayRef {
    /// Its name.
    pub name: String,
    /// Its file name.
    pub file: String,
    /// SHA-256 of the file when the binary was built.
    pub sha256: String,
}

/// Everything an environment binary needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvSpec {
    /// Environment name (`staging`).
    pub name: String,
    /// Its doc comment.
    pub about: String,
    /// Tier.
    pub tier: Tier,
    /// Home and project.
    pub persistence: Persistence,
    /// The server it deploys to, when declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Overlays merged, in order.
    pub overlays: Vec<OverlayRef>,
    /// External networks the host provides (created when missing).
    pub networks: Vec<String>,
    /// Every variable and where its value comes from.
    pub vars: IndexMap<String, VarSource>,
    /// The merged project, in template form (run-time variables as `${NAME}`).
    pub tree: Node,
    /// HTTP health check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthSpec>,
    /// Services whose image must be pinned (tag or digest), checked again at run time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pinned: Vec<String>,
}

/// Which run-time inputs a command needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    /// All of them (`up`, `plan`, `config`, `pull`).
    Everything,
    /// Those the project name depends on (`down`, `ps`, `logs`, `exec`, `history`).
    ProjectName,
}

/// A run-time input that was not given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingInput {
    /// Variable name.
    pub name: String,
    /// Whether it is a secret.
    pub secret: bool,
    /// What to give.
    pub help: Option<String>,
}

/// Why an environment could not be resolved at run time.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// Inputs or secrets missing; nothing was touched.
    #[error("{}", missing_message(.0))]
    Missing(Vec<MissingInput>),
    /// A run-time value makes the configuration invalid.
    #[error("{0}")]
    Invalid(Diagnostics),
}

fn missing_message(missing: &[MissingInput]) -> String {
    let mut out = format!(
        "{} run-time value(s) missing; nothing was changed:",
        missing.len()
    );
    for m in missing {
        out.push_str(&format!(
            "\n  - {} ({})",
            m.name,
            if m.secret { "secret" } else { "input" }
        ));
        if let Some(h) = &m.help {
            out.push_str(&format!(": {h}"));
        }
    }
    out.push_str("\nset them in the environment, or in a 0600 file given with --env-file");
    out
}

/// An environment resolved for one run: every value known.
#[derive(Debug)]
pub struct Resolved {
    /// The project, interpolated and normalised.
    pub project: Project,
    /// The compose project name.
    pub project_name: String,
    /// The project's folder (bind mounts resolve against it).
    pub home: PathBuf,
    /// Masks secret values in anything shown.
    pub redactor: Redactor,
    /// Values of the variables (secrets included: never print this).
    pub values: IndexMap<String, Option<String>>,
}

impl EnvSpec {
    /// The variables read at run time: `(name, is_secret, help)`.
    pub fn runtime_inputs(&self) -> impl Iterator<Item = (&str, bool, Option<&str>)> {
        self.vars.iter().filter_map(|(name, source)| match source {
            VarSource::Secret => Some((name.as_str(), true, None)),
            VarSource::Input { help } => Some((name.as_str(), false, help.as_deref())),
            _ => None,
        })
    }

    /// Resolves every variable from compile-time values and `inputs`, then
    /// the project. Missing inputs are all reported at once.
    pub fn resolve(&self, inputs: &dyn Resolve) -> Result<Resolved, ResolveError> {
        self.resolve_with(inputs, Needs::Everything)
    }

    /// Like [`EnvSpec::resolve`]; with [`Needs::ProjectName`], only the inputs
    /// the project name depends on are required (for `down`, `ps`, `logs`...),
    /// the others being treated as unset.
    pub fn resolve_with(
        &self,
        inputs: &dyn Resolve,
        needs: Needs,
    ) -> Result<Resolved, ResolveError> {
        let mut missing = Vec::new();
        let mut given: IndexMap<String, String> = IndexMap::new();
        for (name, secret, help) in self.runtime_inputs() {
            match inputs.resolve(name) {
                Binding::Set(v) if !(secret && v.is_empty()) => {
                    given.insert(name.to_owned(), v);
                }
                _ => missing.push(MissingInput {
                    name: name.to_owned(),
                    secret,
                    help: help.map(str::to_owned),
                }),
            }
        }
        if needs == Needs::ProjectName {
            let name_needs = self.project_name_inputs();
            missing.retain(|m| name_needs.contains(&m.name));
        }
        if !missing.is_empty() {
            return Err(ResolveError::Missing(missing));
        }
        let table = VarTable::new(&self.vars, Some(&given));
        if !table.too_long().is_empty() {
            return Err(ResolveError::Invalid(too_long(table.too_long())));
        }
        let values = table.values();
        // Secrets and every value computed from one.
        let redactor = Redactor::new(
            self.secret_tainted()
                .iter()
                .filter_map(|name| values.get(name).cloned().flatten())
                .map(Secret::new),
        );
        let project_name = self.project_name(&values).map_err(ResolveError::Invalid)?;
        let home = self.persistence.home(&project_name);
        let (project, tree) = realise(
            self.tree.clone(),
            &values,
            interpolate::Output::Final,
            &project_name,
            &home,
        )
        .into_result()
        .map_err(ResolveError::Invalid)?;
        let mut errors = Diagnostics::default();
        for service in &self.pinned {
            if let Some(image) = project
                .services
                .get(service)
                .and_then(|s| s.image.as_deref())
                && let Err(message) = crate::images::check_pinned(self.tier, service, image)
            {
                let at = tree.closest(&["services", service, "image"]).at.clone();
                errors.push(
                    Diagnostic::new(Kind::Image, at, message)
                        .with_help("deploy a commit tag or a digest"),
                );
            }
        }
        if !errors.is_empty() {
            return Err(ResolveError::Invalid(errors));
        }
        Ok(Resolved {
            project,
            project_name,
            home,
            redactor,
            values,
        })
    }

    /// The variables the project name is computed from, transitively.
    pub fn project_name_inputs(&self) -> Vec<String> {
        let Persistence::Ephemeral { project, .. } = &self.persistence else {
            return Vec::new();
        };
        let refs = interpolate::variable_names(project);
        crate::vars::VarGraph::new(&self.vars)
            .inputs_of(refs.iter().map(String::as_str))
            .into_iter()
            .collect()
    }

    /// Secrets and every variable computed from one, transitively: values
    /// that are masked in anything shown and kept out of labels.
    pub fn secret_tainted(&self) -> Vec<String> {
        crate::vars::VarGraph::new(&self.vars)
            .derived_from(|name| matches!(self.vars.get(name), Some(VarSource::Secret)))
            .into_iter()
            .collect()
    }

    /// Every variable's value given the run-time inputs (derivations applied).
    pub fn values(&self, given: &IndexMap<String, String>) -> IndexMap<String, Option<String>> {
        VarTable::new(&self.vars, Some(given)).values()
    }

    /// The compose project name for these values.
    pub fn project_name(&self, vars: &dyn Resolve) -> Result<String, Diagnostics> {
        match &self.persistence {
            Persistence::Persistent { project, .. } => Ok(project.clone()),
            Persistence::Ephemeral { project, .. } => {
                let at = Location::synthetic(&format!("{} project name", self.name));
                let name = evaluate(project, vars, &at)?;
                project_name::validate(&name)
                    .map(str::to_owned)
                    .map_err(|e| {
                        Diagnostics::from(Diagnostic::new(Kind::ProjectName, at, e.to_string()))
                    })
            }
        }
    }

    /// The health check for these values, with a fresh `uuid`.
    pub fn health_url(
        &self,
        vars: &dyn Resolve,
        uuid: &str,
    ) -> Option<Result<String, Diagnostics>> {
        let health = self.health.as_ref()?;
        let with_uuid = |name: &str| {
            if name == "uuid" {
                Binding::Set(uuid.to_owned())
            } else {
                vars.resolve(name)
            }
        };
        Some(evaluate(
            &health.url,
            &with_uuid,
            &Location::synthetic("health url"),
        ))
    }

    /// How long the health check may retry.
    pub fn health_timeout(&self) -> Duration {
        Duration::from_secs(
            self.health
                .as_ref()
                .map_or(HealthSpec::DEFAULT_TIMEOUT_SECS, |h| h.timeout_secs),
        )
    }
}

/// The error for variables whose values exceed [`crate::vars::MAX_VALUE_LEN`].
pub fn too_long_message(name: &str) -> String {
    format!(
        "`{name}` computes to more than {} KiB",
        crate::vars::MAX_VALUE_LEN / 1024
    )
}

fn too_long(names: &[String]) -> Diagnostics {
    Diagnostics(
        names
            .iter()
            .map(|n| {
                Diagnostic::new(
                    Kind::Interpolation,
                    Location::synthetic(n),
                    too_long_message(n),
                )
            })
            .collect(),
    )
}

/// Evaluates a `${NAME}` template fully.
pub fn evaluate(template: &str, vars: &dyn Resolve, at: &Location) -> Result<String, Diagnostics> {
    let t = interpolate::parse(template, at)?;
    match interpolate::evaluate(&t, vars, at)? {
        Evaluated::Text(s) => Ok(s),
        Evaluated::Partial(s) => Err(Diagnostic::new(
            Kind::Interpolation,
            at.clone(),
            format!("`{s}` still has unknown variables"),
        )
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mrs_compose::Overlay;

    fn spec(persistence: Persistence, vars: &[(&str, VarSource)]) -> EnvSpec {
        let tree = match Overlay::parse(
            "base.yml",
            "services:\n  web:\n    image: nginx:1.27\n    environment:\n    - KEY_SLUG=${KEY_SLUG}\n    volumes:\n    - ./data:/data\n",
        ) {
            Ok(o) => o.tree,
            Err(e) => panic!("{e}"),
        };
        EnvSpec {
            name: "t".into(),
            about: String::new(),
            tier: Tier::Staging,
            persistence,
            host: None,
            overlays: Vec::new(),
            networks: Vec::new(),
            vars: vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
            tree,
            health: None,
            pinned: Vec::new(),
        }
    }

    fn inputs(pairs: &[(&str, &str)]) -> IndexMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn masks_secrets_and_what_is_computed_from_them() {
        let s = spec(
            Persistence::Persistent {
                home: "/srv/t".into(),
                project: "t".into(),
            },
            &[
                ("KEY", VarSource::Secret),
                (
                    "KEY_SLUG",
                    VarSource::Derived {
                        function: Derivation::Slug,
                        from: "KEY".into(),
                    },
                ),
            ],
        );
        assert_eq!(s.secret_tainted(), ["KEY", "KEY_SLUG"]);
        let resolved = match s.resolve(&inputs(&[("KEY", "Hunter Two")])) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(
            resolved
                .redactor
                .redact("KEY_SLUG=hunter-two, KEY=Hunter Two"),
            "KEY_SLUG=********, KEY=********"
        );
    }

    #[test]
    fn bind_sources_are_absolute_against_the_home() {
        let s = spec(
            Persistence::Ephemeral {
                project: "pr-${N}".into(),
                root: "/srv/review/".into(),
                lifetime_secs: 60,
            },
            &[
                ("N", VarSource::Input { help: None }),
                ("KEY_SLUG", VarSource::Unset),
            ],
        );
        let resolved = match s.resolve(&inputs(&[("N", "7")])) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(resolved.home, PathBuf::from("/srv/review/pr-7"));
        let source = resolved.project.services["web"].volumes[0].source.clone();
        assert_eq!(source.as_deref(), Some("/srv/review/pr-7/data"));
    }

    #[test]
    fn a_run_time_value_cannot_blow_up() {
        let mut vars = vec![("V0", VarSource::Input { help: None })];
        let names: Vec<String> = (1..40).map(|i| format!("V{i}")).collect();
        for (i, n) in names.iter().enumerate() {
            vars.push((
                n.as_str(),
                VarSource::Template(format!("${{V{i}}}${{V{i}}}")),
            ));
        }
        vars.push(("KEY_SLUG", VarSource::Unset));
        let s = spec(
            Persistence::Persistent {
                home: "/srv/t".into(),
                project: "t".into(),
            },
            &vars,
        );
        match s.resolve(&inputs(&[("V0", "abcd")])) {
            Err(ResolveError::Invalid(d)) => {
                assert!(
                    d.to_string().contains("`V15` computes to more than 64 KiB"),
                    "{d}"
                )
            }
            other => panic!("{other:?}"),
        }
    }
}
