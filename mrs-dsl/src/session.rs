//! `up` and `down` as transactions: inputs are resolved before; here the
//! plan (without the lock), the lock, the recovery of interrupted deploys,
//! the plan again under the lock, the apply, the health gate, the history.
//! Each returns a typed report; the CLI prints it.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use mrs_env::spec::{EnvSpec, Persistence, Resolved};

use crate::engine::apply::{self, Say, UpOptions};
use crate::engine::cancel::Cancel;
use crate::engine::desired::Desired;
use crate::engine::down::{self, DownOptions};
use crate::engine::health::{self, HttpCheck};
use crate::engine::journal::{self, Verdict};
use crate::engine::lock::Lock;
use crate::engine::observe::ContainerState;
use crate::engine::plan::{self, Action, Plan};
use crate::engine::{Engine, Error};
use crate::exit::Outcome;
use crate::history::{self, Record};

/// One environment, resolved, on one engine.
pub struct Session<'a> {
    /// The embedded spec.
    pub spec: &'a EnvSpec,
    /// Its SHA-256.
    pub spec_hash: &'a str,
    /// The run's values.
    pub resolved: &'a Resolved,
    /// The engine.
    pub engine: &'a Engine,
    /// What the environment asks for.
    pub desired: &'a Desired,
    /// Progress, redacted.
    pub say: Say<'a>,
}

/// What `up` is asked to do.
#[derive(Debug, Clone)]
pub struct UpRequest {
    /// The apply's options.
    pub options: UpOptions,
    /// Wait this long for another deploy's lock.
    pub wait_lock: Option<Duration>,
    /// The environment's HTTP check (none with `--no-wait`).
    pub http: Option<HttpCheck>,
}

/// What `up` did.
#[derive(Debug)]
pub struct UpReport {
    /// The exit code's outcome.
    pub outcome: Outcome,
    /// The final message (an error, or what serves).
    pub message: String,
    /// Containers created or recreated.
    pub changed: Vec<String>,
}

/// What `down` is asked to do.
#[derive(Debug, Clone, Copy)]
pub struct DownRequest {
    /// `--force`.
    pub force: bool,
    /// `--volumes`.
    pub volumes: bool,
    /// `--yes`.
    pub yes: bool,
    /// `--history`: also the deploy history.
    pub history: bool,
}

impl UpReport {
    fn new(outcome: Outcome, message: impl Into<String>) -> UpReport {
        UpReport {
            outcome,
            message: message.into(),
            changed: Vec::new(),
        }
    }
}

/// One try of the HTTP check, running while other work goes on.
pub type EarlyCheck = tokio::task::JoinHandle<Result<(), Error>>;

/// Starts one try of the HTTP check in the background.
pub fn try_http_check_now(check: HttpCheck) -> EarlyCheck {
    tokio::spawn(async move { health::http_check(&check, Instant::now(), &|_| {}).await })
}

/// Ends the process on a second signal: the next `up` recovers from the journal.
fn abort(signal: &str) -> ! {
    eprintln!(
        "error: {signal} again: aborting at once; the environment may be between two versions; the next `up` recovers it from the journal on the engine"
    );
    std::process::exit(i32::from(Outcome::RollbackFailed.code()))
}

impl Session<'_> {
    fn env(&self) -> &str {
        &self.spec.name
    }

    /// Deploys: plan first; take the lock only when there is work; always
    /// end with the health gate, so exit 0 means the environment serves.
    /// `early_check`: the HTTP check tried once while the engine was reached
    /// and the plan made ([`try_http_check_now`]).
    pub async fn up(&self, request: &UpRequest, early_check: Option<EarlyCheck>) -> UpReport {
        let cancel = Cancel::default();
        cancel.listen(abort);
        // Ready by the time the history record is written.
        let home = self.resolved.home.clone();
        let hashing = tokio::task::spawn_blocking(move || history::binary_sha256(&home));
        let planned = plan::plan(
            self.engine,
            self.env(),
            self.desired,
            request.options.remove_orphans,
        )
        .await;
        let plan = match planned {
            Ok(p) => p,
            Err(e) => return self.unchanged(&e),
        };
        self.warn_leftovers(&plan);
        if plan.is_noop() {
            let answered = match early_check {
                Some(task) => matches!(task.await, Ok(Ok(()))),
                None => false,
            };
            let _ = hashing.await;
            return self.serving(&plan, request, &cancel, answered).await;
        }
        if let Some(task) = early_check {
            task.abort();
        }
        // Not cut short by a signal: creating the lock changes state; its wait checks `cancel`.
        let acquired = Lock::acquire(
            self.engine,
            &self.desired.project,
            request.wait_lock,
            &cancel,
            &|m| (self.say)(m),
        )
        .await;
        let lock = match acquired {
            Ok(l) => l,
            Err(e) => return self.unchanged(&e),
        };
        let report = self.up_locked(request, &cancel).await;
        if let Err(e) = lock.release(self.engine).await {
            (self.say)(&format!("warning: could not release the deploy lock: {e}"));
        }
        report
    }

    async fn up_locked(&self, request: &UpRequest, cancel: &Cancel) -> UpReport {
        let options = &request.options;
        let mut plan = match self.plan_again(options.remove_orphans).await {
            Ok(p) => p,
            Err(e) => return self.unchanged(&e),
        };
        let recovered = !plan.interrupted.is_empty();
        if recovered {
            if let Err(e) = self.recover(&plan).await {
                let text = format!("could not recover an interrupted deploy: {e}");
                self.record("up", Outcome::RollbackFailed, &[], Some(&text), None);
                return UpReport::new(Outcome::RollbackFailed, text);
            }
            plan = match self.plan_again(options.remove_orphans).await {
                Ok(p) => p,
                Err(e) => return self.unchanged(&e),
            };
        }
        if let Err(e) = cancel.check() {
            return self.unchanged(&e);
        }
        let preflight =
            apply::preflight(self.engine, self.desired, &mut plan, options.pull, self.say);
        if let Err(e) = cancel.or_interrupted(preflight).await {
            return self.unchanged(&e);
        }
        if plan.is_noop() {
            return self.serving(&plan, request, cancel, false).await;
        }
        (self.say)(&plan.summary());
        let deploy = journal::new_deploy_id();
        // A deploy that dies from here on shows as interrupted in the history.
        record(
            self.spec,
            self.spec_hash,
            self.resolved,
            "up",
            history::IN_PROGRESS,
            &[],
            None,
            Some(&deploy),
        );
        let result = apply::up(
            self.engine,
            self.desired,
            &plan,
            &deploy,
            request.http.clone(),
            options,
            cancel,
            self.say,
        )
        .await;
        let error = result
            .error
            .as_deref()
            .map(|e| self.resolved.redactor.redact(e));
        self.record(
            "up",
            result.outcome,
            &result.changed,
            error.as_deref(),
            result.deploy.as_deref(),
        );
        let error = error.unwrap_or_default();
        let served_before = plan.view.iter().any(|o| o.state == ContainerState::Running);
        let message = match result.outcome {
            Outcome::Ok => format!("deployed {} (project {})", self.env(), self.desired.project),
            Outcome::RolledBack if served_before => format!(
                "deployment failed and was rolled back; the previous version serves: {error}"
            ),
            Outcome::RolledBack => format!(
                "deployment failed and was rolled back to the state before it (nothing was running then, nothing runs now): {error}"
            ),
            Outcome::RollbackFailed => format!(
                "deployment failed and the rollback failed too; the environment may be down: {error}"
            ),
            _ => format!("{error}; nothing was changed"),
        };
        UpReport {
            outcome: result.outcome,
            message,
            changed: result.changed,
        }
    }

    /// Orphans and strays are left alone; say so.
    fn warn_leftovers(&self, plan: &Plan) {
        for step in &plan.steps {
            match step.action {
                Action::KeepOrphan => (self.say)(&format!(
                    "warning: found orphan container {}; if you removed or renamed its service, run `up --remove-orphans` to clean it up",
                    step.name
                )),
                Action::Stray => (self.say)(&format!(
                    "warning: container {} carries the labels of service {} but is not one of ours: left alone",
                    step.name,
                    step.service.as_deref().unwrap_or_default()
                )),
                _ => {}
            }
        }
    }

    async fn plan_again(&self, remove_orphans: bool) -> Result<Plan, Error> {
        plan::plan(self.engine, self.env(), self.desired, remove_orphans).await
    }

    /// Recovers the plan's interrupted deploys (under the lock), writing a history record each.
    async fn recover(&self, plan: &Plan) -> Result<(), Error> {
        for d in &plan.interrupted {
            (self.say)(&format!(
                "found an interrupted {}: {}",
                d.header(),
                match d.verdict {
                    Verdict::RollBack => "it did not commit; rolling it back",
                    Verdict::Finish => "it committed; removing what it set aside",
                }
            ));
            let result =
                journal::recover(self.engine, d, &plan.observed.containers, self.say).await;
            let outcome = match (&result, d.verdict) {
                (Ok(()), Verdict::RollBack) => Outcome::RolledBack,
                (Ok(()), Verdict::Finish) => Outcome::Ok,
                (Err(_), _) => Outcome::RollbackFailed,
            };
            let error = result.as_ref().err().map(ToString::to_string);
            self.record("recover", outcome, &[], error.as_deref(), Some(&d.deploy));
            result?;
            (self.say)(&format!(
                "recovered the interrupted deploy {}: {}",
                d.deploy,
                match d.verdict {
                    Verdict::RollBack => "rolled back",
                    Verdict::Finish => "finished",
                }
            ));
        }
        Ok(())
    }

    /// Nothing to change: check the environment serves (exit 0) or say why
    /// not (exit 1). `answered`: the HTTP check already passed during the plan.
    async fn serving(
        &self,
        plan: &Plan,
        request: &UpRequest,
        cancel: &Cancel,
        answered: bool,
    ) -> UpReport {
        (self.say)(&format!("nothing to do: {}", plan.summary()));
        if !request.options.wait {
            self.record("up", Outcome::Ok, &[], None, None);
            return UpReport::new(
                Outcome::Ok,
                "nothing changed (--no-wait: health not checked)",
            );
        }
        let deadline = Instant::now() + request.options.health_timeout;
        let check = async {
            if !self.looks_healthy(plan) {
                health::gate(
                    self.engine,
                    self.desired,
                    &HashSet::new(),
                    false,
                    deadline,
                    self.say,
                )
                .await?;
            }
            if let Some(http) = request.http.as_ref().filter(|_| !answered) {
                health::http_check(http, deadline, &|m| (self.say)(m)).await?;
            }
            Ok::<(), Error>(())
        };
        match cancel.or_interrupted(check).await {
            Ok(()) => {
                self.record("up", Outcome::Ok, &[], None, None);
                UpReport::new(
                    Outcome::Ok,
                    format!("{} serves (project {})", self.env(), self.desired.project),
                )
            }
            Err(e) => {
                let text = self.resolved.redactor.redact(&e.to_string());
                self.record("up", Outcome::Failed, &[], Some(&text), None);
                UpReport::new(
                    Outcome::Failed,
                    format!("the environment does not serve: {text}; nothing was changed"),
                )
            }
        }
    }

    /// Whether every container is running (and healthy) as observed, without asking again.
    fn looks_healthy(&self, plan: &Plan) -> bool {
        self.desired.containers.iter().all(|c| {
            plan.current(&c.name).is_some_and(|o| {
                o.state == ContainerState::Running
                    && (!c.has_healthcheck
                        || o.inspected
                            .as_ref()
                            .is_some_and(|i| i.health.as_deref() == Some("healthy")))
            })
        })
    }

    /// `up` refused before changing anything.
    pub fn refuse(&self, e: &Error) -> UpReport {
        self.unchanged(e)
    }

    fn unchanged(&self, e: &Error) -> UpReport {
        let text = self.resolved.redactor.redact(&e.to_string());
        self.record("up", Outcome::Unchanged, &[], Some(&text), None);
        UpReport::new(Outcome::Unchanged, format!("{text}; nothing was changed"))
    }

    /// Removes the environment's containers and networks (and what the flags add).
    pub async fn down(&self, request: DownRequest) -> Result<Outcome, (Outcome, Error)> {
        let persistent = matches!(self.spec.persistence, Persistence::Persistent { .. });
        if persistent && !request.force {
            return Err((
                Outcome::Unchanged,
                Error::Refused(format!(
                    "`{}` is persistent: pass --force to remove its containers (data is kept)",
                    self.env()
                )),
            ));
        }
        if persistent && request.volumes && !request.yes {
            return Err((
                Outcome::Unchanged,
                Error::Refused(
                    "--volumes removes this environment's data: add --yes to confirm".into(),
                ),
            ));
        }
        let cancel = Cancel::default();
        let lock = Lock::acquire(
            self.engine,
            &self.desired.project,
            Some(Duration::from_secs(60)),
            &cancel,
            &|m| (self.say)(m),
        )
        .await
        .map_err(|e| (Outcome::Unchanged, e))?;
        let order: Vec<String> = self
            .desired
            .containers
            .iter()
            .map(|c| c.service.clone())
            .collect();
        let remove_data = !persistent || (request.volumes && request.yes);
        let result = down::down(
            self.engine,
            &self.desired.project,
            &order,
            DownOptions {
                volumes: remove_data,
                anonymous_volumes: remove_data,
            },
            self.say,
        )
        .await;
        let result = match result {
            Ok(_) if remove_data => {
                // An ephemeral environment goes entirely; a persistent one keeps its history unless asked.
                let keep = persistent && !request.history;
                remove_home(&self.resolved.home, keep, self.say)
            }
            other => other.map(|_| ()),
        };
        if let Err(e) = lock.release(self.engine).await {
            (self.say)(&format!("warning: could not release the deploy lock: {e}"));
        }
        let outcome = if result.is_ok() {
            Outcome::Ok
        } else {
            Outcome::Failed
        };
        let error = result.as_ref().err().map(ToString::to_string);
        self.record("down", outcome, &[], error.as_deref(), None);
        result.map(|()| outcome).map_err(|e| (Outcome::Failed, e))
    }

    /// Appends to the deploy history (errors redacted); a failure to write is a warning.
    pub fn record(
        &self,
        command: &str,
        outcome: Outcome,
        changed: &[String],
        error: Option<&str>,
        deploy: Option<&str>,
    ) {
        record(
            self.spec,
            self.spec_hash,
            self.resolved,
            command,
            outcome.as_str(),
            changed,
            error,
            deploy,
        );
    }
}

/// Appends one record to the environment's deploy history.
#[allow(clippy::too_many_arguments)]
pub fn record(
    spec: &EnvSpec,
    spec_hash: &str,
    resolved: &Resolved,
    command: &str,
    outcome: &str,
    changed: &[String],
    error: Option<&str>,
    deploy: Option<&str>,
) {
    // An ephemeral environment's folder is gone after `down`; its record goes nowhere.
    if command == "down" && !resolved.home.exists() {
        return;
    }
    let record = Record {
        at: history::now(),
        who: history::who(),
        command: command.to_owned(),
        env: spec.name.clone(),
        project: resolved.project_name.clone(),
        binary_sha256: history::binary_sha256(&resolved.home),
        spec_sha256: spec_hash.to_owned(),
        outcome: outcome.to_owned(),
        changed: changed.to_vec(),
        error: error.map(|e| resolved.redactor.redact(e)),
        deploy: deploy.map(str::to_owned),
    };
    if let Err(e) = history::append(&resolved.home, &record) {
        eprintln!(
            "warning: cannot write the deploy history under {}: {e}",
            resolved.home.display()
        );
    }
}

/// Removes the environment's folder; with `keep_history`, all but the state folder.
fn remove_home(home: &std::path::Path, keep_history: bool, say: Say<'_>) -> Result<(), Error> {
    let io = |path: &std::path::Path, source| Error::Io {
        action: "remove",
        path: path.display().to_string(),
        source,
    };
    if !home.exists() {
        return Ok(());
    }
    if !keep_history {
        say(&format!("removing {}", home.display()));
        return std::fs::remove_dir_all(home).map_err(|e| io(home, e));
    }
    say(&format!(
        "removing the data under {} (the deploy history is kept; --history removes it)",
        home.display()
    ));
    let state = history::state_dir(home);
    for entry in std::fs::read_dir(home).map_err(|e| io(home, e))? {
        let path = entry.map_err(|e| io(home, e))?.path();
        if path == state {
            continue;
        }
        if path.is_dir() && !path.is_symlink() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        }
        .map_err(|e| io(&path, e))?;
    }
    Ok(())
}
