//! `up`: converge to the desired state, gate on health, roll back on failure.
//!
//! Order: images (pulled only when missing and pullable), host-port
//! preflight, networks, volumes, folders, then, under a journal entry
//! ([`super::journal`]), containers in dependency order (independent ones
//! concurrently). A container is recreated only when its config hash, a
//! secret, its image or its networks changed: the replacement is created
//! under a temporary name (with the old container's anonymous volumes), the
//! old one is stopped and set aside under a unique name, the new one takes
//! the name and starts. The deploy commits once the health gate passes:
//! its journal entry goes, then the containers it set aside. On failure,
//! a signal or the deadline, the journal drives the rollback by container
//! ID. Volumes and bind-mounted data are never removed.

use std::collections::{HashMap, HashSet};
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use bollard::models::{
    ContainerCreateBody, EndpointSettings, Mount, MountType, NetworkConnectRequest,
    NetworkCreateRequest, VolumeCreateRequest,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, ListContainersOptionsBuilder,
    LogsOptionsBuilder, RemoveContainerOptionsBuilder, RenameContainerOptionsBuilder,
    StopContainerOptionsBuilder,
};
use futures_util::StreamExt;
use futures_util::future::join_all;

use mrs_compose::model::Condition;

use super::cancel::Cancel;
use super::desired::{Desired, DesiredContainer, Folder};
use super::health::{self, HttpCheck};
use super::journal::{self, Role};
use super::observe::{self, ContainerState, ObservedContainer};
use super::plan::{Action, Plan, StepKind};
use super::{Context, Engine, Error, is_not_found, labels};
use crate::exit::Outcome;

/// Options of `up`.
#[derive(Debug, Clone)]
pub struct UpOptions {
    /// Remove containers of services no longer in the project.
    pub remove_orphans: bool,
    /// How long containers may take to be running/healthy, and the HTTP check to pass.
    pub health_timeout: Duration,
    /// Deadline for the whole `up`.
    pub timeout: Duration,
    /// Pull missing images (when a registry is reachable).
    pub pull: bool,
    /// Wait for health (the gate that decides rollback).
    pub wait: bool,
}

/// What `up` did.
#[derive(Debug)]
pub struct UpResult {
    /// The outcome (and exit code).
    pub outcome: Outcome,
    /// What went wrong, when something did.
    pub error: Option<String>,
    /// Containers created or recreated.
    pub changed: Vec<String>,
    /// The deploy's ID, once it changed a container.
    pub deploy: Option<String>,
}

/// Something that prints progress (redacted by the caller).
pub type Say<'a> = &'a (dyn Fn(&str) + Sync);

/// Failures before anything changed.
pub async fn preflight(
    engine: &Engine,
    desired: &Desired,
    plan: &mut Plan,
    pull: bool,
    say: Say<'_>,
) -> Result<(), Error> {
    for image in plan.missing_images.clone() {
        if !pull {
            return Err(Error::Refused(format!(
                "image {image} is not on the engine (and pulling is disabled)"
            )));
        }
        say(&format!("pulling {image} (missing on the engine)"));
        pull_image(engine, &image, say).await.map_err(|e| {
            Error::Refused(format!(
                "image {image} is not on the engine and cannot be pulled: {e}"
            ))
        })?;
        let info = observe::image(engine, &image).await?;
        plan.observed.images.insert(image.clone(), info);
        plan.missing_images.retain(|m| *m != image);
    }
    check_ports(engine, desired, plan).await
}

/// Pulls an image, reporting layers' progress now and then.
pub async fn pull_image(engine: &Engine, image: &str, say: Say<'_>) -> Result<(), Error> {
    let r =
        mrs_compose::image::ImageRef::parse(image).map_err(|e| Error::Refused(e.to_string()))?;
    let from = match &r.registry {
        Some(reg) => format!("{reg}/{}", r.repository),
        None => r.repository.clone(),
    };
    let tag = r
        .digest
        .clone()
        .unwrap_or_else(|| r.effective_tag().to_owned());
    let options = CreateImageOptionsBuilder::default()
        .from_image(&from)
        .tag(&tag)
        .build();
    let mut stream = engine.docker.create_image(Some(options), None, None);
    // Bytes done and total per layer; a bar on a terminal, a line every 2 s otherwise.
    let mut layers: HashMap<String, (i64, i64)> = HashMap::new();
    let bar = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message(format!("pulling {image}"));
        bar
    });
    let mut last = Instant::now();
    while let Some(item) = deadline_next(&mut stream).await? {
        let info = item.ctx(|| format!("pull {image}"))?;
        if let Some(e) = info.error_detail.and_then(|d| d.message) {
            return Err(Error::Refused(e));
        }
        if let (Some(id), Some(d)) = (info.id, info.progress_detail)
            && let (Some(current), Some(total)) = (d.current, d.total)
        {
            layers.insert(id, (current, total));
        }
        let (done, total) = layers
            .values()
            .fold((0i64, 0i64), |(d, t), (c, l)| (d + c, t + l));
        match &bar {
            Some(bar) => {
                bar.set_length(u64::try_from(total).unwrap_or(0));
                bar.set_position(u64::try_from(done).unwrap_or(0));
            }
            None if last.elapsed() > Duration::from_secs(2) => {
                let pct = if total > 0 { done * 100 / total } else { 0 };
                say(&format!(
                    "  pulling {image}: {pct}% of {} MB",
                    total / 1_000_000
                ));
                last = Instant::now();
            }
            None => {}
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(())
}

/// The next item of a pull, or a timeout when the registry goes silent for 5 minutes.
async fn deadline_next<S: futures_util::Stream + Unpin>(
    stream: &mut S,
) -> Result<Option<S::Item>, Error> {
    tokio::time::timeout(Duration::from_secs(300), stream.next())
        .await
        .map_err(|_| Error::Timeout {
            what: "the registry to send the next part of the image".into(),
            secs: 300,
        })
}

/// A published host port must be free, or held by the container we replace.
async fn check_ports(engine: &Engine, desired: &Desired, plan: &Plan) -> Result<(), Error> {
    let ours: HashSet<&str> = plan
        .observed
        .containers
        .iter()
        .map(|o| o.id.as_str())
        .collect();
    let options = ListContainersOptionsBuilder::default().build();
    let running = engine
        .docker
        .list_containers(Some(options))
        .await
        .ctx(|| "list running containers".into())?;
    for step in plan.steps.iter().filter(|s| {
        matches!(
            s.action,
            Action::Create | Action::Recreate(_) | Action::Start
        )
    }) {
        let Some(c) = desired.containers.iter().find(|c| c.name == step.name) else {
            continue;
        };
        let bindings = c
            .body
            .host_config
            .as_ref()
            .and_then(|h| h.port_bindings.as_ref());
        for (container_port, list) in bindings.into_iter().flatten() {
            for b in list.iter().flatten() {
                let Some(port) = b.host_port.as_deref().and_then(|p| p.parse::<u16>().ok()) else {
                    continue;
                };
                let held = running.iter().find(|r| {
                    !ours.contains(r.id.as_deref().unwrap_or_default())
                        && r.ports
                            .iter()
                            .flatten()
                            .any(|p| p.public_port == Some(port))
                });
                if let Some(other) = held {
                    let name = other
                        .names
                        .iter()
                        .flatten()
                        .next()
                        .map_or("?", |n| n.trim_start_matches('/'));
                    return Err(Error::Refused(format!(
                        "host port {port} (for {} {container_port}) is already published by container {name}, which is not part of this environment",
                        c.name
                    )));
                }
                let ours_holds = plan
                    .observed
                    .containers
                    .iter()
                    .any(|o| o.state == ContainerState::Running && o.service == c.service);
                if engine.is_local() && !ours_holds {
                    let ip = b
                        .host_ip
                        .clone()
                        .filter(|i| !i.is_empty())
                        .unwrap_or_else(|| "0.0.0.0".into());
                    if let Err(e) = std::net::TcpListener::bind((ip.as_str(), port))
                        && e.kind() == std::io::ErrorKind::AddrInUse
                    {
                        return Err(Error::Refused(format!(
                            "host port {ip}:{port} (for {} {container_port}) is in use by another process on this machine",
                            c.name
                        )));
                    }
                }
            }
        }
    }
    Ok(())
}

/// What a deploy changed so far (the engine's labels hold the same, for a crash).
#[derive(Default, Debug)]
struct Progress {
    /// The journal entry's ID, once created.
    entry: Option<String>,
    /// Final names of containers created or recreated.
    changed: Vec<String>,
    /// IDs of the containers set aside (removed on commit).
    aside: Vec<String>,
}

/// Executes a plan. Assumes [`preflight`] passed and the lock is held.
/// A stop asked through `cancel` (a signal, the deadline, a lost lock) is
/// honoured between engine calls, then the deploy is rolled back.
#[allow(clippy::too_many_arguments)]
pub async fn up(
    engine: &Engine,
    desired: &Desired,
    plan: &Plan,
    deploy: &str,
    http: Option<HttpCheck>,
    options: &UpOptions,
    cancel: &Cancel,
    say: Say<'_>,
) -> UpResult {
    let deploy = deploy.to_owned();
    let progress = tokio::sync::Mutex::new(Progress::default());
    let deadline = Instant::now() + options.timeout;
    let timer = {
        let cancel = cancel.clone();
        let secs = options.timeout.as_secs();
        tokio::spawn(async move {
            tokio::time::sleep_until(deadline.into()).await;
            cancel.request(&format!("timed out after {secs}s"));
        })
    };
    let work = async {
        cancel.check()?;
        ensure_networks(engine, desired, plan, say).await?;
        cancel.check()?;
        ensure_volumes(engine, desired, plan, say).await?;
        ensure_folders(engine, desired, say)?;
        cancel.check()?;
        let starts: Vec<&str> = plan
            .steps
            .iter()
            .filter(|s| s.kind == StepKind::Container && s.action == Action::Start)
            .filter_map(|s| plan.current(&s.name).map(|o| o.id.as_str()))
            .collect();
        let entry = create_entry(engine, &desired.project, &deploy, &starts).await?;
        progress.lock().await.entry = Some(entry);
        converge(
            engine, desired, plan, &deploy, &progress, cancel, deadline, say,
        )
        .await?;
        if !options.wait {
            say("not waiting for health (--no-wait)");
            return Ok::<(), Error>(());
        }
        let gate_deadline = (Instant::now() + options.health_timeout).min(deadline);
        let changed: HashSet<String> = progress.lock().await.changed.iter().cloned().collect();
        cancel
            .or_interrupted(health::gate(
                engine,
                desired,
                &changed,
                true,
                gate_deadline,
                say,
            ))
            .await?;
        if let Some(check) = &http {
            say(&format!("health check: GET {}", check.url));
            cancel
                .or_interrupted(health::http_check(check, gate_deadline, &|m| say(m)))
                .await?;
            say("health check passed");
        }
        Ok::<(), Error>(())
    };
    let result = work.await;
    timer.abort();
    let progress = progress.into_inner();
    let changed = progress.changed.clone();
    let deploy_id = progress.entry.as_ref().map(|_| deploy.clone());
    match result {
        Ok(()) => {
            if let Err(e) = commit(engine, &progress, say).await {
                say(&format!(
                    "warning: deployed, but cleaning up failed (the next `up` finishes it): {e}"
                ));
            }
            if options.remove_orphans {
                for step in plan.steps.iter().filter(|s| s.action == Action::Remove) {
                    say(&format!("removing orphan {}", step.name));
                    if let Some(o) = plan.view.iter().find(|o| o.name == step.name)
                        && let Err(e) = stop_and_remove(engine, &o.id, true).await
                    {
                        say(&format!(
                            "warning: could not remove orphan {}: {e}",
                            step.name
                        ));
                    }
                }
            }
            UpResult {
                outcome: Outcome::Ok,
                error: None,
                changed,
                deploy: deploy_id,
            }
        }
        Err(e) => {
            say(&format!("error: {e}"));
            show_logs(engine, &changed, say).await;
            if progress.entry.is_none() {
                // No container was touched (a network or folder may have been added): nothing to undo.
                return UpResult {
                    outcome: Outcome::Unchanged,
                    error: Some(e.to_string()),
                    changed,
                    deploy: None,
                };
            }
            let outcome = match rollback(engine, desired, plan, &deploy, http.as_ref(), say).await {
                Ok(()) => Outcome::RolledBack,
                Err(re) => {
                    say(&format!("error: rollback failed: {re}"));
                    Outcome::RollbackFailed
                }
            };
            UpResult {
                outcome,
                error: Some(e.to_string()),
                changed,
                deploy: deploy_id,
            }
        }
    }
}

/// The deploy's journal entry: a never-started container whose labels say
/// who, since when, and which stopped containers it starts.
async fn create_entry(
    engine: &Engine,
    project: &str,
    deploy: &str,
    starts: &[&str],
) -> Result<String, Error> {
    let name = journal::entry_name(project, deploy);
    let extra = [
        (labels::DEPLOY, deploy.to_owned()),
        (labels::STARTS, starts.join(",")),
    ];
    super::lock::create_marker(engine, &name, project, Role::Journal, &extra).await
}

/// The deploy passed: its journal entry goes, then what it set aside.
async fn commit(engine: &Engine, progress: &Progress, say: Say<'_>) -> Result<(), Error> {
    if let Some(entry) = &progress.entry {
        remove(engine, entry, false).await?;
    }
    for id in &progress.aside {
        say(&format!(
            "removing the previous container {}",
            &id[..id.len().min(12)]
        ));
        remove(engine, id, false).await?;
    }
    Ok(())
}

/// Undoes this deploy from the engine's labels (as a recovery would), then
/// checks the previous version is back.
async fn rollback(
    engine: &Engine,
    desired: &Desired,
    plan: &Plan,
    deploy: &str,
    http: Option<&HttpCheck>,
    say: Say<'_>,
) -> Result<(), Error> {
    let containers = observe::containers(engine, &desired.project).await?;
    let found = journal::interrupted(&containers);
    let Some(ours) = found.iter().find(|d| d.deploy == deploy) else {
        return Err(Error::Refused(format!(
            "the journal of deploy {deploy} is gone from the engine"
        )));
    };
    journal::recover(engine, ours, &containers, say).await?;
    let was_running: Vec<&ObservedContainer> = plan
        .view
        .iter()
        .filter(|o| o.state == ContainerState::Running)
        .collect();
    if was_running.is_empty() {
        say("rollback: done; nothing was running before this deploy, nothing runs now");
        return Ok(());
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    for o in &was_running {
        let has_health = desired
            .containers
            .iter()
            .find(|c| c.name == o.name)
            .is_some_and(|c| c.has_healthcheck);
        health::wait_ready(engine, &o.name, has_health, None, deadline).await?;
    }
    let replaced = plan
        .steps
        .iter()
        .any(|s| matches!(s.action, Action::Recreate(_)) && s.kind == StepKind::Container);
    if let Some(check) = http
        && replaced
    {
        say("rollback: checking the previous version answers");
        health::http_check(check, deadline, &|m| say(m)).await?;
    }
    say("rollback: the previous version is serving");
    Ok(())
}

/// Creates the networks the plan found missing (it inspected them already).
async fn ensure_networks(
    engine: &Engine,
    desired: &Desired,
    plan: &Plan,
    say: Say<'_>,
) -> Result<(), Error> {
    for n in &desired.networks {
        if plan.action(StepKind::Network, &n.name) != Some(&Action::Create) {
            continue;
        }
        let mut labels_map = HashMap::new();
        if !n.config.external {
            labels_map.extend(n.config.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
            labels_map.insert(labels::PROJECT.to_owned(), desired.project.clone());
            labels_map.insert(labels::NETWORK.to_owned(), n.key.clone());
            labels_map.insert(
                labels::VERSION.to_owned(),
                labels::COMPOSE_VERSION.to_owned(),
            );
            labels_map.insert(labels::CONFIG_HASH.to_owned(), n.hash.clone());
        }
        say(&format!(
            "creating network {}{}",
            n.name,
            if n.config.external {
                " (external, missing on this host)"
            } else {
                ""
            }
        ));
        let request = NetworkCreateRequest {
            name: n.name.clone(),
            driver: n.config.driver.clone(),
            internal: Some(n.config.internal),
            attachable: Some(n.config.attachable),
            enable_ipv6: Some(n.config.enable_ipv6),
            options: Some(
                n.config
                    .driver_opts
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            labels: Some(labels_map),
            ..NetworkCreateRequest::default()
        };
        match engine.docker.create_network(request).await {
            Ok(_) => {}
            // Created meanwhile by a concurrent deployment: fine.
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 409, ..
            }) => {}
            Err(e) => return Err(e).ctx(|| format!("create network {}", n.name)),
        }
    }
    Ok(())
}

/// Creates the volumes the plan found missing.
async fn ensure_volumes(
    engine: &Engine,
    desired: &Desired,
    plan: &Plan,
    say: Say<'_>,
) -> Result<(), Error> {
    for v in &desired.volumes {
        if plan.action(StepKind::Volume, &v.name) != Some(&Action::Create) {
            continue;
        }
        if v.config.external {
            return Err(Error::Refused(format!(
                "external volume \"{}\" not found",
                v.name
            )));
        }
        say(&format!("creating volume {}", v.name));
        let mut labels_map: HashMap<String, String> = v
            .config
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        labels_map.insert(labels::PROJECT.to_owned(), desired.project.clone());
        labels_map.insert(labels::VOLUME.to_owned(), v.key.clone());
        labels_map.insert(
            labels::VERSION.to_owned(),
            labels::COMPOSE_VERSION.to_owned(),
        );
        labels_map.insert(labels::CONFIG_HASH.to_owned(), v.hash.clone());
        let request = VolumeCreateRequest {
            name: Some(v.name.clone()),
            driver: v.config.driver.clone(),
            driver_opts: Some(
                v.config
                    .driver_opts
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            labels: Some(labels_map),
            ..VolumeCreateRequest::default()
        };
        engine
            .docker
            .create_volume(request)
            .await
            .ctx(|| format!("create volume {}", v.name))?;
    }
    Ok(())
}

fn ensure_folders(engine: &Engine, desired: &Desired, say: Say<'_>) -> Result<(), Error> {
    if !engine.is_local() {
        if !desired.folders.is_empty() {
            say("warning: the engine is remote; folders are not created here");
        }
        return Ok(());
    }
    for f in &desired.folders {
        ensure_folder(f, say)?;
    }
    Ok(())
}

/// Creates a folder (and parents) and applies owner and mode. Never removes anything.
pub fn ensure_folder(f: &Folder, say: Say<'_>) -> Result<(), Error> {
    let io = |action, source| Error::Io {
        action,
        path: f.path.display().to_string(),
        source,
    };
    if !f.path.is_dir() {
        say(&format!("creating folder {}", f.path.display()));
        std::fs::create_dir_all(&f.path).map_err(|e| io("create", e))?;
    }
    if let Some((uid, gid)) = f.owner {
        std::os::unix::fs::chown(&f.path, Some(uid), Some(gid))
            .map_err(|e| io("change the owner of", e))?;
    }
    if let Some(mode) = f.mode {
        std::fs::set_permissions(&f.path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| io("change the mode of", e))?;
    }
    Ok(())
}

/// Creates, recreates and starts containers, each once its dependencies are ready.
#[allow(clippy::too_many_arguments)]
async fn converge(
    engine: &Engine,
    desired: &Desired,
    plan: &Plan,
    deploy: &str,
    progress: &tokio::sync::Mutex<Progress>,
    cancel: &Cancel,
    deadline: Instant,
    say: Say<'_>,
) -> Result<(), Error> {
    let mut done: HashSet<String> = HashSet::new();
    let mut remaining: Vec<&DesiredContainer> = desired.containers.iter().collect();
    while !remaining.is_empty() {
        let (ready, later): (Vec<&DesiredContainer>, Vec<&DesiredContainer>) =
            remaining.into_iter().partition(|c| {
                c.depends_on.iter().all(|(d, _)| {
                    done.contains(d) || !desired.containers.iter().any(|x| x.service == *d)
                })
            });
        if ready.is_empty() {
            return Err(Error::Refused("dependency cycle between services".into()));
        }
        let results = join_all(ready.iter().map(|c| async move {
            for (dep, condition) in &c.depends_on {
                let Some(d) = desired.containers.iter().find(|x| x.service == *dep) else {
                    continue;
                };
                match condition {
                    Condition::ServiceStarted => {}
                    Condition::ServiceHealthy => {
                        say(&format!("{} waits for {} to be healthy", c.name, d.name));
                        cancel
                            .or_interrupted(health::wait_ready(
                                engine,
                                &d.name,
                                d.has_healthcheck,
                                None,
                                deadline,
                            ))
                            .await
                            .map_err(|e| match e {
                                Error::Interrupted(_) => e,
                                e => Error::Refused(format!("dependency failed to start: {e}")),
                            })?;
                    }
                    Condition::ServiceCompletedSuccessfully => {
                        cancel
                            .or_interrupted(health::wait_completed(engine, &d.name, deadline))
                            .await?;
                    }
                }
            }
            let step = Step {
                engine,
                plan,
                deploy,
                progress,
                cancel,
                say,
            };
            step.apply(c).await
        }))
        .await;
        for r in results {
            r?;
        }
        done.extend(ready.iter().map(|c| c.service.clone()));
        remaining = later;
    }
    Ok(())
}

/// What one container's step needs.
struct Step<'a> {
    engine: &'a Engine,
    plan: &'a Plan,
    deploy: &'a str,
    progress: &'a tokio::sync::Mutex<Progress>,
    cancel: &'a Cancel,
    say: Say<'a>,
}

impl Step<'_> {
    /// Applies the plan's action for `c`, checking for a stop before each engine call that changes state.
    async fn apply(&self, c: &DesiredContainer) -> Result<(), Error> {
        let (engine, say) = (self.engine, self.say);
        let action = self.plan.action(StepKind::Container, &c.name);
        let current = self.plan.current(&c.name);
        match (action, current) {
            (Some(Action::Start), Some(o)) => {
                self.cancel.check()?;
                say(&format!("starting {}", c.name));
                start(engine, &o.id).await
            }
            (Some(Action::Create), _) => {
                self.cancel.check()?;
                say(&format!("creating {} ({})", c.name, c.image));
                let labels = self.labels(c, Role::Created, None);
                let id = create(engine, c, &c.name, self.plan, labels, Vec::new()).await?;
                self.progress.lock().await.changed.push(c.name.clone());
                self.cancel.check()?;
                start(engine, &id).await
            }
            (Some(Action::Recreate(why)), Some(old)) => {
                self.cancel.check()?;
                say(&format!("recreating {}: {}", c.name, why.join("; ")));
                let labels = self.labels(c, Role::Replacement, Some(old));
                let mounts = inherited_volumes(c, self.plan, old);
                let temporary = journal::new_name(&c.name, self.deploy);
                let new = create(engine, c, &temporary, self.plan, labels, mounts).await?;
                self.progress.lock().await.changed.push(c.name.clone());
                self.cancel.check()?;
                stop(engine, &old.id).await?;
                self.cancel.check()?;
                rename(engine, &old.id, &journal::aside_name(&c.name, self.deploy)).await?;
                self.progress.lock().await.aside.push(old.id.clone());
                self.cancel.check()?;
                rename(engine, &new, &c.name).await?;
                self.cancel.check()?;
                start(engine, &new).await
            }
            _ => Ok(()),
        }
    }

    /// Compose's labels plus the journal's: this deploy, the role, the final
    /// name and, for a replacement, which container it replaces.
    fn labels(
        &self,
        c: &DesiredContainer,
        role: Role,
        replaces: Option<&ObservedContainer>,
    ) -> Vec<(&'static str, String)> {
        let mut l = vec![
            (labels::DEPLOY, self.deploy.to_owned()),
            (labels::ROLE, role.as_str().to_owned()),
            (labels::FINAL_NAME, c.name.clone()),
        ];
        if let Some(old) = replaces {
            l.push((labels::REPLACES, old.id.clone()));
            l.push((
                labels::REPLACES_RUNNING,
                (old.state == ContainerState::Running).to_string(),
            ));
            l.push((labels::REPLACE, c.name.clone()));
        }
        l
    }
}

/// The old container's anonymous volumes, mounted again in its replacement
/// (as compose does): the data of an image's `VOLUME` survives a recreate.
fn inherited_volumes(c: &DesiredContainer, plan: &Plan, old: &ObservedContainer) -> Vec<Mount> {
    let image_volumes = plan
        .observed
        .images
        .get(&c.image)
        .and_then(Option::as_ref)
        .map(|i| i.volumes.clone())
        .unwrap_or_default();
    let anonymous = c.anonymous_targets(&image_volumes);
    old.volumes
        .iter()
        .filter(|(_, target)| anonymous.contains(&target.trim_end_matches('/').to_owned()))
        .map(|(name, target)| Mount {
            target: Some(target.clone()),
            source: Some(name.clone()),
            typ: Some(MountType::VOLUME),
            ..Mount::default()
        })
        .collect()
}

/// Creates a container; returns its ID.
async fn create(
    engine: &Engine,
    c: &DesiredContainer,
    name: &str,
    plan: &Plan,
    extra_labels: Vec<(&'static str, String)>,
    mounts: Vec<Mount>,
) -> Result<String, Error> {
    let mut body: ContainerCreateBody = c.create_body();
    if let Some(labels_map) = body.labels.as_mut() {
        if let Some(id) = plan.image_id(&c.image) {
            labels_map.insert(labels::IMAGE.to_owned(), id.to_owned());
        }
        for (k, v) in extra_labels {
            labels_map.insert(k.to_owned(), v);
        }
    }
    if !mounts.is_empty() {
        let targets: Vec<&str> = mounts.iter().filter_map(|m| m.target.as_deref()).collect();
        if let Some(v) = body.volumes.as_mut() {
            v.retain(|t| !targets.contains(&t.trim_end_matches('/')));
        }
        if let Some(h) = body.host_config.as_mut() {
            h.mounts.get_or_insert_with(Vec::new).extend(mounts);
        }
    }
    let options = CreateContainerOptionsBuilder::default().name(name).build();
    let id = engine
        .docker
        .create_container(Some(options), body)
        .await
        .ctx(|| format!("create container {name}"))?
        .id;
    for (network, aliases) in c.networks.iter().skip(1) {
        let request = NetworkConnectRequest {
            container: id.clone(),
            endpoint_config: Some(EndpointSettings {
                aliases: Some(aliases.clone()),
                ..EndpointSettings::default()
            }),
        };
        engine
            .docker
            .connect_network(network, request)
            .await
            .ctx(|| format!("connect {name} to network {network}"))?;
    }
    Ok(id)
}

/// Starts a container (by name or ID).
pub async fn start(engine: &Engine, container: &str) -> Result<(), Error> {
    match engine.docker.start_container(container, None).await {
        Ok(())
        | Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 304, ..
        }) => Ok(()),
        Err(e) => Err(e).ctx(|| format!("start container {container}")),
    }
}

/// Stops a container (10 s grace unless the container says otherwise); gone or stopped is fine.
pub async fn stop(engine: &Engine, container: &str) -> Result<(), Error> {
    let options = StopContainerOptionsBuilder::default().t(10).build();
    match engine.docker.stop_container(container, Some(options)).await {
        Ok(())
        | Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404 | 304,
            ..
        }) => Ok(()),
        Err(e) => Err(e).ctx(|| format!("stop container {container}")),
    }
}

/// Renames a container (by name or ID).
pub async fn rename(engine: &Engine, container: &str, to: &str) -> Result<(), Error> {
    let options = RenameContainerOptionsBuilder::default().name(to).build();
    engine
        .docker
        .rename_container(container, options)
        .await
        .ctx(|| format!("rename container {container} to {to}"))
}

/// Removes a container (by name or ID), with its anonymous volumes when
/// `volumes`; never named volumes. Gone is fine.
pub async fn remove(engine: &Engine, container: &str, volumes: bool) -> Result<(), Error> {
    let options = RemoveContainerOptionsBuilder::default()
        .force(true)
        .v(volumes)
        .build();
    match engine
        .docker
        .remove_container(container, Some(options))
        .await
    {
        Ok(()) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(e).ctx(|| format!("remove container {container}")),
    }
}

/// Stops, then removes.
pub async fn stop_and_remove(engine: &Engine, container: &str, volumes: bool) -> Result<(), Error> {
    stop(engine, container).await?;
    remove(engine, container, volumes).await
}

/// Prints the last log lines of the containers this `up` changed.
async fn show_logs(engine: &Engine, names: &[String], say: Say<'_>) {
    for name in names {
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .tail("20")
            .build();
        let mut stream = engine.docker.logs(name, Some(options));
        say(&format!("--- last log lines of {name} ---"));
        let mut any = false;
        while let Ok(Some(Ok(line))) =
            tokio::time::timeout(Duration::from_secs(5), stream.next()).await
        {
            for l in String::from_utf8_lossy(&line.into_bytes()).lines() {
                say(&format!("{name} | {l}"));
                any = true;
            }
        }
        if !any {
            say(&format!("{name} | (no output)"));
        }
    }
}
