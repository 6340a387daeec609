//! The environment spec: what a `deployment!` expansion embeds and its
//! binary runs. No YAML is read at run time: the spec carries the overlays
//! already merged and interpolated with every compile-time value, run-time
//! inputs and secrets left as `${NAME}` expressions, and no secret value.

use std::path::PathBuf;
use std::time::Duration;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use mrs_compose::error::{Diagnostic, Diagnostics, Kind};
use mrs_compose::image::ImageRef;
use mrs_compose::interpolate::{self, Binding, Evaluated, Resolve};
use mrs_compose::model::Project;
use mrs_compose::node::Node;
use mrs_compose::{Location, project, project_name};

use crate::secret::{Redactor, Secret};

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

/// Where a variable's value comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VarSource {
    /// Written in the environment's source.
    Literal(String),
    /// Read at run time, never shown.
    Secret,
    /// Read at run time.
    Input {
        /// What to give, shown when it is missing.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        help: Option<String>,
    },
    /// Computed from another variable.
    Derived {
        /// The function.
        function: Derivation,
        /// The variable it is computed from.
        from: String,
    },
    /// A template of other variables (`${BRANCH_SLUG}.review.example`).
    Template(String),
    /// Deliberately unset.
    Unset,
}

/// Resolves variables from their sources: literals, derivations and
/// templates are computed (through each other, in any order); inputs and
/// secrets come from `given`, or are deferred when `given` is `None`
/// (at compile time).
pub struct VarTable<'a> {
    /// The declarations.
    pub vars: &'a IndexMap<String, VarSource>,
    /// Run-time values; `None` at compile time.
    pub given: Option<&'a IndexMap<String, String>>,
}

impl VarTable<'_> {
    fn lookup(&self, name: &str, depth: usize) -> Binding {
        if depth > 32 {
            return Binding::Unset;
        }
        match self.vars.get(name) {
            None | Some(VarSource::Unset) => Binding::Unset,
            Some(VarSource::Literal(v)) => Binding::Set(v.clone()),
            Some(VarSource::Secret | VarSource::Input { .. }) => match self.given {
                None => Binding::Deferred,
                Some(given) => given
                    .get(name)
                    .map_or(Binding::Unset, |v| Binding::Set(v.clone())),
            },
            Some(VarSource::Derived { function, from }) => match self.lookup(from, depth + 1) {
                Binding::Set(v) => Binding::Set(function.apply(&v)),
                other => other,
            },
            Some(VarSource::Template(template)) => {
                let at = Location::synthetic(name);
                let Ok(t) = interpolate::parse(template, &at) else {
                    return Binding::Unset;
                };
                let inner = |n: &str| self.lookup(n, depth + 1);
                match interpolate::evaluate(&t, &inner, &at) {
                    Ok(Evaluated::Text(v)) => Binding::Set(v),
                    Ok(Evaluated::Partial(_)) => Binding::Deferred,
                    Err(_) => Binding::Unset,
                }
            }
        }
    }
}

impl Resolve for VarTable<'_> {
    fn resolve(&self, name: &str) -> Binding {
        self.lookup(name, 0)
    }
}

/// Functions that derive one variable from another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Derivation {
    /// Lowercase letters and digits, other runs as `-`.
    Slug,
}

impl Derivation {
    /// The DSL name.
    pub fn name(self) -> &'static str {
        match self {
            Derivation::Slug => "slug",
        }
    }

    /// Applies the function.
    pub fn apply(self, input: &str) -> String {
        match self {
            Derivation::Slug => project_name::slug(input),
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
        let mut secrets = Vec::new();
        for (name, secret, help) in self.runtime_inputs() {
            match inputs.resolve(name) {
                Binding::Set(v) if !(secret && v.is_empty()) => {
                    if secret {
                        secrets.push(Secret::new(v.clone()));
                    }
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
        let values = self.values(&given);
        let redactor = Redactor::new(secrets);
        let project_name = self.project_name(&values).map_err(ResolveError::Invalid)?;
        let home = PathBuf::from(match &self.persistence {
            Persistence::Persistent { home, .. } => home.clone(),
            Persistence::Ephemeral { root, .. } => {
                format!("{}/{project_name}", root.trim_end_matches('/'))
            }
        });
        let mut tree = self.tree.clone();
        let mut errors = Vec::new();
        interpolate::interpolate_tree(&mut tree, &values, interpolate::Output::Final, &mut errors);
        if !errors.is_empty() {
            return Err(ResolveError::Invalid(Diagnostics(errors)));
        }
        let mut project = project::decode(&tree).map_err(ResolveError::Invalid)?;
        project::normalize(&mut project, &project_name, &values, &tree)
            .map_err(ResolveError::Invalid)?;
        project::resolve_paths(&mut project, &home);
        let mut errors = Diagnostics::default();
        for service in &self.pinned {
            if let Some(image) = project
                .services
                .get(service)
                .and_then(|s| s.image.as_deref())
            {
                let at = tree.closest(&["services", service, "image"]).at.clone();
                match ImageRef::parse(image) {
                    Ok(r) if r.is_pinned() => {}
                    Ok(r) => errors.push(
                        Diagnostic::new(
                            Kind::Image,
                            at,
                            format!(
                                "service `{service}` of a {} environment runs `{r}`, a moving tag",
                                self.tier.as_str()
                            ),
                        )
                        .with_help("deploy a commit tag or a digest"),
                    ),
                    Err(e) => errors.push(Diagnostic::new(Kind::Image, at, e.to_string())),
                }
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
        let refs = |t: &str| -> Vec<String> {
            interpolate::parse(t, &Location::synthetic("project"))
                .map(|t| {
                    interpolate::references(&t)
                        .into_iter()
                        .map(|(v, _)| v.name.clone())
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut todo = refs(project);
        let mut seen = Vec::new();
        while let Some(name) = todo.pop() {
            if seen.contains(&name) {
                continue;
            }
            match self.vars.get(&name) {
                Some(VarSource::Derived { from, .. }) => todo.push(from.clone()),
                Some(VarSource::Template(t)) => todo.extend(refs(t)),
                _ => {}
            }
            seen.push(name);
        }
        seen
    }

    /// Every variable's value given the run-time inputs (derivations applied).
    pub fn values(&self, given: &IndexMap<String, String>) -> IndexMap<String, Option<String>> {
        let table = VarTable {
            vars: &self.vars,
            given: Some(given),
        };
        self.vars
            .keys()
            .map(|name| {
                let v = match table.resolve(name) {
                    Binding::Set(v) => Some(v),
                    _ => None,
                };
                (name.clone(), v)
            })
            .collect()
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
        Duration::from_secs(self.health.as_ref().map_or(60, |h| h.timeout_secs))
    }
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
