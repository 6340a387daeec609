//! The command line of an environment binary.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use sha2::{Digest, Sha256};

use mrs_compose::interpolate::{Binding, Resolve as _};
use mrs_compose::output::{self, Format};
use mrs_env::secret::{Redactor, Secret};
use mrs_env::spec::{EnvSpec, Needs, Persistence, Resolved, VarSource};

use crate::engine::apply::{self, UpOptions};
use crate::engine::desired::{self, Desired};
use crate::engine::health::HttpCheck;
use crate::engine::{Engine, Error, ops, plan};
use crate::exit::{self, Outcome};
use crate::history;
use crate::inputs::Inputs;
use crate::session::{DownRequest, EarlyCheck, Session, UpRequest};

/// Writes to stdout; a reader that went away (`| head`) ends the program quietly.
fn emit(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    if out
        .write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        std::process::exit(0);
    }
}

macro_rules! out {
    ($($t:tt)*) => { emit(&format!($($t)*)) };
}

macro_rules! outln {
    () => { emit("\n") };
    ($($t:tt)*) => { emit(&(format!($($t)*) + "\n")) };
}

/// An environment binary's command line.
#[derive(Debug, Parser)]
#[command(version, after_help = exit::HELP)]
pub struct Cli {
    /// Read run-time inputs and secrets from this file (mode 0600) before the process environment.
    #[arg(long, global = true, value_name = "FILE")]
    pub env_file: Option<PathBuf>,
    /// What to do; without one, prints what this environment is and exits.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Output formats.
#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum OutputFormat {
    /// For people.
    #[default]
    Text,
    /// For programs.
    Json,
}

/// Config output formats.
#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum ConfigFormat {
    /// YAML.
    #[default]
    Yaml,
    /// JSON.
    Json,
    /// YAML that docker-compose v1 also reads.
    YamlV1,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what `up` would do: create, recreate (and why), keep, remove.
    Plan {
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: OutputFormat,
        /// Count orphan containers as removed.
        #[arg(long)]
        remove_orphans: bool,
    },
    /// Deploy: converge, wait for health, roll back on failure.
    Up(UpArgs),
    /// Remove the environment's containers and networks (persistent ones need --force).
    Down {
        /// Required for persistent environments.
        #[arg(long)]
        force: bool,
        /// Also remove named volumes (and, for persistent environments with --yes, the data under home).
        #[arg(long)]
        volumes: bool,
        /// Confirm removing data.
        #[arg(long)]
        yes: bool,
        /// With --volumes --yes, also remove the deploy history (kept otherwise).
        #[arg(long)]
        history: bool,
    },
    /// List the environment's containers and their state.
    #[command(alias = "status")]
    Ps {
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: OutputFormat,
    },
    /// Show logs of every service, or of one.
    Logs {
        /// A service.
        service: Option<String>,
        /// Keep following.
        #[arg(short, long)]
        follow: bool,
        /// Only the last N lines.
        #[arg(long)]
        tail: Option<u32>,
    },
    /// Run a command in a service's container; its exit code is this command's.
    Exec {
        /// The service.
        service: String,
        /// The command and its arguments.
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Pull the images the engine does not have.
    Pull,
    /// Print the resolved compose project (secrets masked).
    Config {
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: ConfigFormat,
        /// Print the embedded template instead, run-time values as `${NAME}` (needs no inputs).
        #[arg(long)]
        template: bool,
    },
    /// List the variables and where each value comes from.
    Vars {
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: OutputFormat,
    },
    /// Print the embedded environment spec (JSON; it holds no secret).
    #[command(hide = true)]
    Spec,
    /// Show the deploy history.
    History {
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: OutputFormat,
    },
}

/// Options of `up`.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// Remove containers of services no longer in the environment.
    #[arg(long)]
    pub remove_orphans: bool,
    /// Wait for another deployment's lock instead of failing (seconds, default 600; at most a day).
    #[arg(long, value_name = "SECS", num_args = 0..=1, default_missing_value = "600",
          value_parser = clap::value_parser!(u64).range(0..=MAX_SECS))]
    pub wait_lock: Option<u64>,
    /// Deadline for the whole deployment, in seconds (1 to 86400).
    #[arg(long, value_name = "SECS", default_value_t = 900,
          value_parser = clap::value_parser!(u64).range(1..=MAX_SECS))]
    pub timeout: u64,
    /// How long containers and the HTTP check may take to be healthy (default: the environment's; 1 to 86400).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=MAX_SECS))]
    pub health_timeout: Option<u64>,
    /// Never pull; fail when an image is missing.
    #[arg(long)]
    pub no_pull: bool,
    /// Do not wait for health (no health gate, so no rollback): like `docker compose up -d`.
    #[arg(long)]
    pub no_wait: bool,
}

/// The longest wait a flag accepts: a day.
const MAX_SECS: u64 = 86_400;

/// Runs the binary of the environment whose spec is `spec_json`.
pub fn run(spec_json: &str) -> ExitCode {
    let spec: EnvSpec = match serde_json::from_str(spec_json) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: the embedded environment is corrupt ({e}); rebuild this binary");
            return Outcome::Failed.into();
        }
    };
    let about = if spec.about.is_empty() {
        format!("Deploys the `{}` environment.", spec.name)
    } else {
        spec.about.clone()
    };
    let name: &'static str = Box::leak(spec.name.clone().into_boxed_str());
    let mut command = Cli::command().name(name).bin_name(name).about(about);
    let cli = match Cli::from_arg_matches(&command.clone().get_matches()) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    let Some(subcommand) = cli.command else {
        let _ = command.print_help();
        outln!("\n{}", summary(&spec));
        return Outcome::Ok.into();
    };
    let cli = (cli.env_file, subcommand);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return Outcome::Failed.into();
        }
    };
    let spec_hash = mrs_env::catalog::hex(&Sha256::digest(spec_json.as_bytes()));
    let ctx = Ctx { spec, spec_hash };
    runtime.block_on(ctx.dispatch(cli)).into()
}

struct Ctx {
    spec: EnvSpec,
    spec_hash: String,
}

fn say(env: &str, redactor: &Redactor, message: &str) {
    eprintln!("[{env}] {}", redactor.redact(message));
}

impl Ctx {
    async fn dispatch(&self, (env_file, command): (Option<PathBuf>, Command)) -> Outcome {
        match command {
            Command::Vars { format } => self.vars(format),
            Command::Spec => {
                outln!(
                    "{}",
                    serde_json::to_string_pretty(&self.spec).unwrap_or_default()
                );
                Outcome::Ok
            }
            Command::Config {
                format,
                template: true,
            } => {
                let project = match mrs_compose::project::decode(&self.spec.tree) {
                    Ok(p) => p,
                    Err(e) => return self.fail(Outcome::Failed, &e.to_string()),
                };
                out!("{}", output::render(&project, config_format(format)));
                Outcome::Ok
            }
            command => {
                let needs = match command {
                    Command::Up(_)
                    | Command::Plan { .. }
                    | Command::Config { .. }
                    | Command::Pull => Needs::Everything,
                    _ => Needs::ProjectName,
                };
                let resolved = match self.resolve(env_file.as_deref(), needs) {
                    Ok(r) => r,
                    Err(outcome) => return outcome,
                };
                self.with_resolved(command, resolved).await
            }
        }
    }

    fn fail(&self, outcome: Outcome, message: &str) -> Outcome {
        eprintln!("error: {message}");
        outcome
    }

    /// Every run-time input is read before anything is touched.
    fn resolve(
        &self,
        env_file: Option<&std::path::Path>,
        needs: Needs,
    ) -> Result<Resolved, Outcome> {
        let inputs =
            Inputs::load(env_file).map_err(|e| self.fail(Outcome::Unchanged, &e.to_string()))?;
        for warning in inputs.unknown_names(&self.spec) {
            eprintln!("{warning}");
        }
        if needs == Needs::Everything {
            inputs
                .check_secrets(&self.spec)
                .map_err(|e| self.fail(Outcome::Unchanged, &e.to_string()))?;
        }
        self.spec
            .resolve_with(&inputs, needs)
            .map_err(|e| self.fail(Outcome::Unchanged, &e.to_string()))
    }

    async fn with_resolved(&self, command: Command, resolved: Resolved) -> Outcome {
        let redactor = resolved.redactor.clone();
        let env = self.spec.name.clone();
        let say = move |m: &str| say(&env, &redactor, m);
        match command {
            Command::Config { format, .. } => {
                let redactor = &resolved.redactor;
                out!(
                    "{}",
                    output::render_with(&resolved.project, config_format(format), &|s| redactor
                        .redact(s))
                );
                Outcome::Ok
            }
            Command::History { format } => {
                let records = match history::read(&resolved.home) {
                    Ok(r) => r,
                    Err(e) => {
                        return self.fail(
                            Outcome::Failed,
                            &format!("cannot read the deploy history: {e}"),
                        );
                    }
                };
                match format {
                    OutputFormat::Json => outln!(
                        "{}",
                        serde_json::to_string_pretty(&records).unwrap_or_default()
                    ),
                    OutputFormat::Text => {
                        for (i, r) in records.iter().enumerate() {
                            let error = r
                                .error
                                .as_ref()
                                .map(|e| format!(" ({e})"))
                                .unwrap_or_default();
                            let outcome = if history::is_interrupted(&records, i) {
                                "interrupted"
                            } else if r.outcome == history::IN_PROGRESS {
                                "started"
                            } else {
                                r.outcome.as_str()
                            };
                            let deploy = r
                                .deploy
                                .as_ref()
                                .map(|d| format!(" deploy {d}"))
                                .unwrap_or_default();
                            outln!(
                                "{} {:<7} {:<16} {} binary {} spec {}{deploy}{error}",
                                r.at,
                                r.command,
                                outcome,
                                r.who,
                                &r.binary_sha256[..r.binary_sha256.len().min(12)],
                                &r.spec_sha256[..r.spec_sha256.len().min(12)]
                            );
                        }
                    }
                }
                Outcome::Ok
            }
            other => {
                let desired = match desired::desired(&self.spec, &resolved, &self.spec_hash) {
                    Ok(d) => d,
                    Err(e) => return self.fail(Outcome::Unchanged, &e.to_string()),
                };
                // `up` ends with the HTTP check: when nothing changes, one try made
                // now, while the engine is asked, is the one that counts.
                let early = match &other {
                    Command::Up(args) if !args.no_wait => self
                        .http_check(&resolved)
                        .ok()
                        .flatten()
                        .map(crate::session::try_http_check_now),
                    _ => None,
                };
                let engine = match Engine::connect().await {
                    Ok(e) => e,
                    Err(e) => return self.fail(Outcome::Unchanged, &e.to_string()),
                };
                let result = self
                    .engine_command(other, &engine, &resolved, &desired, &say, early)
                    .await;
                match result {
                    Ok(outcome) => outcome,
                    Err((outcome, e)) => {
                        self.fail(outcome, &resolved.redactor.redact(&e.to_string()))
                    }
                }
            }
        }
    }

    async fn engine_command(
        &self,
        command: Command,
        engine: &Engine,
        resolved: &Resolved,
        desired: &Desired,
        say: &(dyn Fn(&str) + Sync),
        early: Option<EarlyCheck>,
    ) -> Result<Outcome, (Outcome, Error)> {
        let failed = |e: Error| (Outcome::Failed, e);
        match command {
            Command::Plan {
                format,
                remove_orphans,
            } => {
                let plan = plan::plan(engine, &self.spec.name, desired, remove_orphans)
                    .await
                    .map_err(failed)?;
                match format {
                    OutputFormat::Text => out!("{}", resolved.redactor.redact(&plan.render())),
                    OutputFormat::Json => outln!(
                        "{}",
                        resolved
                            .redactor
                            .redact(&serde_json::to_string_pretty(&plan).unwrap_or_default())
                    ),
                }
                Ok(Outcome::Ok)
            }
            Command::Up(args) => {
                let session = self.session(engine, resolved, desired, say);
                let report = match self.up_request(resolved, &args) {
                    Ok(request) => session.up(&request, early).await,
                    Err(e) => session.refuse(&e),
                };
                if report.outcome == Outcome::Ok {
                    say(&report.message);
                } else {
                    eprintln!("error: {}", resolved.redactor.redact(&report.message));
                }
                Ok(report.outcome)
            }
            Command::Down {
                force,
                volumes,
                yes,
                history,
            } => {
                let session = self.session(engine, resolved, desired, say);
                session
                    .down(DownRequest {
                        force,
                        volumes,
                        yes,
                        history,
                    })
                    .await
            }
            Command::Ps { format } => {
                let ps = ops::ps(engine, &desired.project).await.map_err(failed)?;
                match format {
                    OutputFormat::Json => {
                        outln!("{}", serde_json::to_string_pretty(&ps).unwrap_or_default())
                    }
                    OutputFormat::Text => {
                        for i in &ps.interrupted {
                            outln!("! {}", i.describe());
                        }
                        outln!("{:<40} {:<12} {:<10} STATUS", "NAME", "SERVICE", "STATE");
                        for r in ps.containers {
                            outln!(
                                "{:<40} {:<12} {:<10} {}",
                                r.name,
                                r.service,
                                r.state,
                                r.status
                            );
                        }
                    }
                }
                Ok(Outcome::Ok)
            }
            Command::Logs {
                service,
                follow,
                tail,
            } => {
                let targets: Vec<(String, String)> = desired
                    .containers
                    .iter()
                    .filter(|c| service.as_ref().is_none_or(|s| *s == c.service))
                    .map(|c| (c.name.clone(), c.service.clone()))
                    .collect();
                if targets.is_empty() {
                    return Err((
                        Outcome::Failed,
                        Error::Refused(format!("no service `{}`", service.unwrap_or_default())),
                    ));
                }
                let redactor = resolved.redactor.clone();
                ops::logs(engine, &targets, follow, tail, &move |l| {
                    outln!("{}", redactor.redact(l))
                })
                .await
                .map_err(failed)?;
                Ok(Outcome::Ok)
            }
            Command::Exec { service, command } => {
                let Some(c) = desired.containers.iter().find(|c| c.service == service) else {
                    let known: Vec<&str> = desired
                        .containers
                        .iter()
                        .map(|c| c.service.as_str())
                        .collect();
                    return Err((
                        Outcome::Failed,
                        Error::Refused(format!(
                            "no service `{service}`; the services are {}",
                            known.join(", ")
                        )),
                    ));
                };
                use std::io::Write as _;
                let code = ops::exec(
                    engine,
                    &c.name,
                    command,
                    &|b| {
                        let _ = std::io::stdout().write_all(b);
                    },
                    &|b| {
                        let _ = std::io::stderr().write_all(b);
                    },
                )
                .await
                .map_err(failed)?;
                let _ = std::io::stdout().flush();
                std::process::exit(i32::try_from(code).unwrap_or(1));
            }
            Command::Pull => {
                let plan = plan::plan(engine, &self.spec.name, desired, false)
                    .await
                    .map_err(failed)?;
                if plan.missing_images.is_empty() {
                    say("every image is on the engine");
                }
                for image in &plan.missing_images {
                    say(&format!("pulling {image}"));
                    apply::pull_image(engine, image, say)
                        .await
                        .map_err(failed)?;
                }
                Ok(Outcome::Ok)
            }
            Command::Vars { .. }
            | Command::Config { .. }
            | Command::History { .. }
            | Command::Spec => unreachable_command(),
        }
    }

    fn session<'a>(
        &'a self,
        engine: &'a Engine,
        resolved: &'a Resolved,
        desired: &'a Desired,
        say: &'a (dyn Fn(&str) + Sync),
    ) -> Session<'a> {
        Session {
            spec: &self.spec,
            spec_hash: &self.spec_hash,
            resolved,
            engine,
            desired,
            say,
        }
    }

    fn up_request(&self, resolved: &Resolved, args: &UpArgs) -> Result<UpRequest, Error> {
        let http = match self.http_check(resolved)? {
            h if args.no_wait => h.and(None),
            h => h,
        };
        Ok(UpRequest {
            options: UpOptions {
                remove_orphans: args.remove_orphans,
                health_timeout: args
                    .health_timeout
                    .map_or_else(|| self.spec.health_timeout(), Duration::from_secs),
                timeout: Duration::from_secs(args.timeout),
                pull: !args.no_pull,
                wait: !args.no_wait,
            },
            wait_lock: args.wait_lock.map(Duration::from_secs),
            http,
        })
    }

    fn http_check(&self, resolved: &Resolved) -> Result<Option<HttpCheck>, Error> {
        let Some(health) = &self.spec.health else {
            return Ok(None);
        };
        let values = &resolved.values;
        let uuid = uuid::Uuid::new_v4().to_string();
        let url = match self.spec.health_url(values, &uuid) {
            Some(Ok(u)) => u,
            Some(Err(e)) => return Err(Error::Refused(e.to_string())),
            None => return Ok(None),
        };
        let disabled = health
            .unless
            .as_ref()
            .is_some_and(|v| matches!(values.resolve(v), Binding::Set(s) if !s.is_empty()));
        let basic_auth = match (&health.basic_auth, disabled) {
            (Some(auth), false) => match values.resolve(&auth.password) {
                Binding::Set(p) => Some((auth.user.clone(), Secret::new(p))),
                _ => {
                    return Err(Error::Refused(format!(
                        "the health check needs `{}` for basic auth",
                        auth.password
                    )));
                }
            },
            _ => None,
        };
        Ok(Some(HttpCheck {
            url,
            basic_auth,
            connect_to: health.connect_to.clone(),
            expect: health.expect,
        }))
    }

    fn vars(&self, format: OutputFormat) -> Outcome {
        let rows: Vec<(String, String)> = self
            .spec
            .vars
            .iter()
            .map(|(name, source)| {
                let text = match source {
                    VarSource::Literal(v) => format!("literal {v:?}"),
                    VarSource::Secret => "secret (read at run time)".to_owned(),
                    VarSource::Input { help: Some(h) } => format!("input (read at run time): {h}"),
                    VarSource::Input { help: None } => "input (read at run time)".to_owned(),
                    VarSource::Derived { function, from } => format!("{}({from})", function.name()),
                    VarSource::Template(t) => format!("format({t:?})"),
                    VarSource::Unset => "unset".to_owned(),
                };
                (name.clone(), text)
            })
            .collect();
        match format {
            OutputFormat::Json => outln!(
                "{}",
                serde_json::to_string_pretty(&self.spec.vars).unwrap_or_default()
            ),
            OutputFormat::Text => {
                for (n, t) in rows {
                    outln!("{n:<24} {t}");
                }
            }
        }
        Outcome::Ok
    }
}

/// What the environment is: tier, project, overlays, and the values it reads at run time.
fn summary(spec: &EnvSpec) -> String {
    let (kind, place) = match &spec.persistence {
        Persistence::Persistent { home, project } => {
            ("persistent", format!("project {project}, home {home}"))
        }
        Persistence::Ephemeral {
            project,
            root,
            lifetime_secs,
        } => (
            "ephemeral",
            format!(
                "project {project}, under {root}, lives {}",
                humantime::format_duration(Duration::from_secs(*lifetime_secs))
            ),
        ),
    };
    let overlays: Vec<&str> = spec.overlays.iter().map(|o| o.file.as_str()).collect();
    let mut out = format!(
        "Environment `{}`: {} tier, {kind} ({place})\nOverlays: {}",
        spec.name,
        spec.tier.as_str(),
        overlays.join(", ")
    );
    if let Some(host) = &spec.host {
        out.push_str(&format!("\nHost: {host}"));
    }
    let inputs: Vec<String> = spec
        .runtime_inputs()
        .map(|(n, secret, help)| {
            format!(
                "  {n}{}{}",
                if secret { " (secret)" } else { "" },
                help.map(|h| format!(": {h}")).unwrap_or_default()
            )
        })
        .collect();
    if !inputs.is_empty() {
        out.push_str("\nRead at run time (environment or --env-file):\n");
        out.push_str(&inputs.join("\n"));
    }
    out
}

fn config_format(f: ConfigFormat) -> Format {
    match f {
        ConfigFormat::Yaml => Format::Yaml,
        ConfigFormat::Json => Format::Json,
        ConfigFormat::YamlV1 => Format::YamlV1,
    }
}

fn unreachable_command() -> ! {
    eprintln!("error: internal: command dispatched to the engine by mistake");
    std::process::exit(1)
}
