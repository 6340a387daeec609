//! `up`: converge to the desired state, gate on health, roll back on failure.
//!
//! Order: images (pulled only when missing and pullable), host-port
//! preflight, networks, volumes, folders, then containers in dependency
//! order (independent ones concurrently). A container is recreated only when
//! its config hash, its image or its networks changed: the replacement is
//! created under a temporary name, the old one is stopped and kept aside
//! until the new ones pass the health gate, then removed. On failure the new
//! containers are removed and the old ones renamed back and started.
//! Volumes and bind-mounted data are never removed.

use std::collections::{HashMap, HashSet};
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use bollard::models::{
    ContainerCreateBody, EndpointSettings, NetworkConnectRequest, NetworkCreateRequest,
    VolumeCreateRequest,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, ListContainersOptionsBuilder,
    LogsOptionsBuilder, RemoveContainerOptionsBuilder, RenameContainerOptionsBuilder,
    StopContainerOptionsBuilder,
};
use futures_util::StreamExt;
use futures_util::future::join_all;

use mrs_compose::model::Condition;

use super::desired::{Desired, DesiredContainer, Folder};
use super::health::{self, HttpCheck};
use super::plan::{Action, Plan};
use super::{Context, Engine, Error, labels};
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
        if let Some(id) = super::observed::image_id(engine, &image).await? {
            plan.image_ids.insert(image.clone(), id);
        }
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
    let ours: HashSet<&str> = plan.observed.iter().map(|o| o.id.as_str()).collect();
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
                    .iter()
                    .any(|o| o.state == "running" && o.service == c.service);
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

/// What was changed, to undo it.
#[derive(Default, Debug)]
struct Journal {
    /// Containers created for new services (removed on rollback).
    created: Vec<String>,
    /// Recreated containers: (final name, name of the previous one set aside,
    /// temporary name of the replacement until it takes the final name).
    replaced: Vec<(String, String, String)>,
    /// Stopped containers this `up` started (stopped again on rollback).
    started: Vec<String>,
}

impl Journal {
    fn is_empty(&self) -> bool {
        self.created.is_empty() && self.replaced.is_empty() && self.started.is_empty()
    }
}

/// Executes a plan. Assumes [`preflight`] passed and the lock is held.
pub async fn up(
    engine: &Engine,
    desired: &Desired,
    plan: &Plan,
    http: Option<HttpCheck>,
    options: &UpOptions,
    say: Say<'_>,
) -> UpResult {
    let journal = tokio::sync::Mutex::new(Journal::default());
    let deadline = Instant::now() + options.timeout;
    let work = async {
        ensure_networks(engine, desired, plan, say).await?;
        ensure_volumes(engine, desired, plan, say).await?;
        ensure_folders(engine, desired, say)?;
        converge(engine, desired, plan, &journal, deadline, say).await?;
        if !options.wait {
            say("not waiting for health (--no-wait)");
            return Ok::<(), Error>(());
        }
        let gate_deadline = Instant::now() + options.health_timeout;
        let changed: HashSet<String> = {
            let j = journal.lock().await;
            j.created
                .iter()
                .chain(j.replaced.iter().map(|(n, _, _)| n))
                .cloned()
                .collect()
        };
        gate(engine, desired, &changed, gate_deadline, say).await?;
        if let Some(check) = &http {
            say(&format!("health check: GET {}", check.url));
            health::http_check(check, gate_deadline.min(deadline), &|m| say(m)).await?;
            say("health check passed");
        }
        Ok::<(), Error>(())
    };
    let result = tokio::select! {
        r = tokio::time::timeout_at(deadline.into(), work) => r.unwrap_or(Err(Error::Timeout { what: "up".into(), secs: options.timeout.as_secs() })),
        _ = tokio::signal::ctrl_c() => Err(Error::Refused("interrupted".into())),
    };
    let journal = journal.into_inner();
    let changed: Vec<String> = journal
        .created
        .iter()
        .chain(journal.replaced.iter().map(|(n, _, _)| n))
        .cloned()
        .collect();
    match result {
        Ok(()) => {
            for (_, aside, _) in &journal.replaced {
                if let Err(e) = remove(engine, aside).await {
                    say(&format!(
                        "warning: could not remove the previous container {aside}: {e}"
                    ));
                }
            }
            if options.remove_orphans {
                for step in plan.steps.iter().filter(|s| s.action == Action::Remove) {
                    say(&format!("removing orphan {}", step.name));
                    if let Err(e) = stop_and_remove(engine, &step.name).await {
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
            }
        }
        Err(e) => {
            say(&format!("error: {e}"));
            show_logs(engine, &changed, say).await;
            if journal.is_empty() {
                // No container was touched (a network or folder may have been added): nothing to undo.
                return UpResult {
                    outcome: Outcome::Unchanged,
                    error: Some(e.to_string()),
                    changed,
                };
            }
            let outcome = match rollback(engine, desired, &journal, http.as_ref(), say).await {
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
            }
        }
    }
}

/// Creates the networks the plan found missing (it inspected them already).
async fn ensure_networks(
    engine: &Engine,
    desired: &Desired,
    plan: &Plan,
    say: Say<'_>,
) -> Result<(), Error> {
    for n in &desired.networks {
        if plan.action("network", &n.name) != Some(&Action::Create) {
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
        if plan.action("volume", &v.name) != Some(&Action::Create) {
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
async fn converge(
    engine: &Engine,
    desired: &Desired,
    plan: &Plan,
    journal: &tokio::sync::Mutex<Journal>,
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
                        health::wait_ready(engine, &d.name, d.has_healthcheck, None, deadline)
                            .await
                            .map_err(|e| {
                                Error::Refused(format!("dependency failed to start: {e}"))
                            })?;
                    }
                    Condition::ServiceCompletedSuccessfully => {
                        health::wait_completed(engine, &d.name, deadline).await?
                    }
                }
            }
            apply_container(
                engine,
                c,
                plan.action("container", &c.name),
                plan,
                journal,
                say,
            )
            .await
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

async fn apply_container(
    engine: &Engine,
    c: &DesiredContainer,
    action: Option<&Action>,
    plan: &Plan,
    journal: &tokio::sync::Mutex<Journal>,
    say: Say<'_>,
) -> Result<(), Error> {
    match action {
        Some(Action::Keep) | None => Ok(()),
        Some(Action::Start) => {
            say(&format!("starting {}", c.name));
            journal.lock().await.started.push(c.name.clone());
            start(engine, &c.name).await
        }
        Some(Action::Create) => {
            say(&format!("creating {} ({})", c.name, c.image));
            create(engine, c, &c.name, plan, None).await?;
            journal.lock().await.created.push(c.name.clone());
            start(engine, &c.name).await
        }
        Some(Action::Recreate(why)) => {
            say(&format!("recreating {}: {}", c.name, why.join("; ")));
            let old = plan
                .observed
                .iter()
                .find(|o| o.name == c.name)
                .map(|o| o.id.clone())
                .unwrap_or_default();
            let short = &old[..old.len().min(12)];
            let temporary = format!("{short}_{}", c.name);
            let aside = format!("{}_mrs-previous", c.name);
            // Recorded first: whatever step fails, the rollback knows what to restore.
            journal
                .lock()
                .await
                .replaced
                .push((c.name.clone(), aside.clone(), temporary.clone()));
            create(engine, c, &temporary, plan, Some(&c.name)).await?;
            stop(engine, &c.name).await?;
            rename(engine, &c.name, &aside).await?;
            rename(engine, &temporary, &c.name).await?;
            start(engine, &c.name).await
        }
        Some(Action::Remove | Action::KeepOrphan) => Ok(()),
    }
}

async fn create(
    engine: &Engine,
    c: &DesiredContainer,
    name: &str,
    plan: &Plan,
    replaces: Option<&str>,
) -> Result<(), Error> {
    let mut body: ContainerCreateBody = c.body.clone();
    if let Some(labels_map) = body.labels.as_mut() {
        if let Some(id) = plan.image_ids.get(&c.image) {
            labels_map.insert(labels::IMAGE.to_owned(), id.clone());
        }
        if let Some(r) = replaces {
            labels_map.insert(labels::REPLACE.to_owned(), r.to_owned());
        }
    }
    let options = CreateContainerOptionsBuilder::default().name(name).build();
    engine
        .docker
        .create_container(Some(options), body)
        .await
        .ctx(|| format!("create container {name}"))?;
    for (network, aliases) in c.networks.iter().skip(1) {
        let request = NetworkConnectRequest {
            container: name.to_owned(),
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
    Ok(())
}

/// Starts a container.
pub async fn start(engine: &Engine, name: &str) -> Result<(), Error> {
    engine
        .docker
        .start_container(name, None)
        .await
        .ctx(|| format!("start container {name}"))
}

/// Stops a container (10 s grace unless the container says otherwise).
pub async fn stop(engine: &Engine, name: &str) -> Result<(), Error> {
    let options = StopContainerOptionsBuilder::default().t(10).build();
    match engine.docker.stop_container(name, Some(options)).await {
        Ok(())
        | Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404 | 304,
            ..
        }) => Ok(()),
        Err(e) => Err(e).ctx(|| format!("stop container {name}")),
    }
}

async fn rename(engine: &Engine, from: &str, to: &str) -> Result<(), Error> {
    let options = RenameContainerOptionsBuilder::default().name(to).build();
    engine
        .docker
        .rename_container(from, options)
        .await
        .ctx(|| format!("rename container {from} to {to}"))
}

/// Removes a container (not its named volumes).
pub async fn remove(engine: &Engine, name: &str) -> Result<(), Error> {
    let options = RemoveContainerOptionsBuilder::default().force(true).build();
    match engine.docker.remove_container(name, Some(options)).await {
        Ok(())
        | Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(()),
        Err(e) => Err(e).ctx(|| format!("remove container {name}")),
    }
}

/// Stops, then removes.
pub async fn stop_and_remove(engine: &Engine, name: &str) -> Result<(), Error> {
    stop(engine, name).await?;
    remove(engine, name).await
}

/// Every desired container running (healthy where it has a health check).
///
/// A container this `up` created must not have been restarted at all; one it
/// kept must not restart during the gate.
async fn gate(
    engine: &Engine,
    desired: &Desired,
    changed: &HashSet<String>,
    deadline: Instant,
    say: Say<'_>,
) -> Result<(), Error> {
    say("waiting for the containers to be running and healthy");
    let waits = desired.containers.iter().map(|c| async move {
        let restarts = if changed.contains(&c.name) {
            0
        } else {
            let current = engine
                .docker
                .inspect_container(&c.name, None)
                .await
                .ctx(|| format!("inspect container {}", c.name))?;
            current.restart_count.unwrap_or(0)
        };
        // A container something waits to complete is allowed to exit 0.
        let one_shot = desired.containers.iter().any(|x| {
            x.depends_on.iter().any(|(d, cond)| {
                *d == c.service && *cond == Condition::ServiceCompletedSuccessfully
            })
        });
        if one_shot {
            return health::wait_completed(engine, &c.name, deadline).await;
        }
        health::wait_ready(engine, &c.name, c.has_healthcheck, Some(restarts), deadline).await?;
        // Give processes that die right after starting a moment to do so.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        match health::state(engine, &c.name, c.has_healthcheck, Some(restarts)).await? {
            health::State::Failed(why) => Err(Error::Refused(why)),
            _ => Ok(()),
        }
    });
    for r in join_all(waits).await {
        r?;
    }
    Ok(())
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

async fn exists(engine: &Engine, name: &str) -> Result<bool, Error> {
    match engine.docker.inspect_container(name, None).await {
        Ok(_) => Ok(true),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(false),
        Err(e) => Err(e).ctx(|| format!("inspect container {name}")),
    }
}

/// Undoes a failed `up`: new containers go, previous ones come back and must run again.
async fn rollback(
    engine: &Engine,
    desired: &Desired,
    journal: &Journal,
    http: Option<&HttpCheck>,
    say: Say<'_>,
) -> Result<(), Error> {
    let mut errors = Vec::new();
    for name in &journal.created {
        say(&format!("rollback: removing {name}"));
        if let Err(e) = stop_and_remove(engine, name).await {
            errors.push(e.to_string());
        }
    }
    for name in &journal.started {
        say(&format!("rollback: stopping {name} again"));
        if let Err(e) = stop(engine, name).await {
            errors.push(e.to_string());
        }
    }
    for (name, aside, temporary) in &journal.replaced {
        say(&format!("rollback: restoring the previous {name}"));
        let r = async {
            remove(engine, temporary).await?;
            if exists(engine, aside).await? {
                // The replacement took the final name: drop it, bring the previous one back.
                stop_and_remove(engine, name).await?;
                rename(engine, aside, name).await?;
            }
            start(engine, name).await
        }
        .await;
        if let Err(e) = r {
            errors.push(e.to_string());
        }
    }
    if !errors.is_empty() {
        return Err(Error::Refused(errors.join("; ")));
    }
    if journal.replaced.is_empty() {
        say("rollback: nothing had been replaced; the previous containers kept running");
        return Ok(());
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    for (name, _, _) in &journal.replaced {
        let has_health = desired
            .containers
            .iter()
            .find(|c| c.name == *name)
            .is_some_and(|c| c.has_healthcheck);
        health::wait_ready(engine, name, has_health, None, deadline).await?;
    }
    if let Some(check) = http {
        say("rollback: checking the previous version answers");
        health::http_check(check, deadline, &|m| say(m)).await?;
    }
    say("rollback: the previous version is serving");
    Ok(())
}
