//! One deployment of an environment on an engine at a time.
//!
//! The lock lives on the engine itself, so it holds across machines that
//! deploy to the same engine: a container named `mrs-deploy-lock.<project>`,
//! created (never started) from a tiny local image. Creating a container
//! with a taken name fails atomically, so only one deployer takes it.
//!
//! Liveness does not depend on process IDs or host names: the holder keeps a
//! *lease*, a companion container named
//! `mrs-deploy-lease.<project>.<lock id>.<expiry>`, and renames it every
//! few seconds with a later expiry (a rename is atomic and cheap). A lock
//! whose lease expired (its holder died or froze) is stale: it is broken by
//! removing the lock container *by the ID that was inspected*; a 404 means
//! another deployer broke it first, and the loop starts again, so a fresh
//! lock is never removed. A holder that fails to renew (someone broke its
//! lock) asks its deploy to stop and roll back.
//!
//! The expiry is in the holder's clock: machines deploying to one engine
//! need clocks within a few seconds of each other.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{
    BuildImageOptionsBuilder, CreateContainerOptionsBuilder, ListContainersOptionsBuilder,
    RenameContainerOptionsBuilder,
};
use futures_util::StreamExt;

use super::cancel::Cancel;
use super::journal::Role;
use super::{Context, Engine, Error, is_not_found, labels};

/// The image lock containers are created from (built locally, no registry).
pub const LOCK_IMAGE: &str = "mrs-deploy/lock:1";

/// Where locks written by earlier versions name their holder.
const LEGACY_OWNER: &str = "io.mrs-deploy.lock.owner";
const LEASE_OF: &str = "io.mrs-deploy.lease-of";
const LEASE_SECS: &str = "io.mrs-deploy.lease-secs";

/// How long a lease lasts unless renewed (`MRS_LOCK_LEASE_SECS`, 1 to 300; default 10).
pub fn lease_duration() -> Duration {
    let secs = std::env::var("MRS_LOCK_LEASE_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| (1..=300).contains(s))
        .unwrap_or(10);
    Duration::from_secs(secs)
}

/// A held lock; release it with [`Lock::release`].
pub struct Lock {
    id: String,
    lease: String,
    keeper: tokio::task::JoinHandle<()>,
}

/// Who holds a lock.
#[derive(Debug, Clone)]
struct Holder {
    id: String,
    owner: String,
    since: u64,
    /// The lease's expiry (unix seconds), when there is a lease.
    expires: Option<u64>,
    lease_id: Option<String>,
    lease_secs: u64,
}

/// Now, unix seconds.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The lock container's name for a project.
pub fn lock_name(project: &str) -> String {
    format!("mrs-deploy-lock.{project}")
}

fn lease_name(project: &str, lock_id: &str, expires: u64) -> String {
    format!(
        "mrs-deploy-lease.{project}.{}.{expires}",
        &lock_id[..lock_id.len().min(12)]
    )
}

impl Lock {
    /// Takes the lock for `project`. With `wait`, waits up to that long for a
    /// held lock (printing who holds it); without, fails at once. While held,
    /// the lease is renewed; if that fails, `cancel` is asked to stop.
    pub async fn acquire(
        engine: &Engine,
        project: &str,
        wait: Option<Duration>,
        cancel: &Cancel,
        say: &dyn Fn(&str),
    ) -> Result<Lock, Error> {
        ensure_image(engine).await?;
        let name = lock_name(project);
        let lease = lease_duration();
        let started = std::time::Instant::now();
        let mut announced = false;
        loop {
            let secs = [(LEASE_SECS, lease.as_secs().to_string())];
            match create_marker(engine, &name, project, Role::Lock, &secs).await {
                Ok(id) => return Lock::hold(engine, project, id, lease, cancel).await,
                Err(e) if e.status() == Some(409) => {}
                Err(e) => return Err(e),
            }
            let Some(h) = holder(engine, &name).await? else {
                continue;
            };
            let stale = match h.expires {
                Some(expires) => expires < now(),
                // A holder that died between creating the lock and its lease: a lease's time.
                None => h.since + 2 * h.lease_secs.max(1) < now(),
            };
            if stale {
                say(&format!(
                    "warning: breaking the stale deploy lock of {project} held by {} (its lease expired)",
                    h.owner
                ));
                // By ID: if another deployer broke it and took the lock meanwhile,
                // this removes nothing (a 404), and the loop sees their lock.
                super::apply::remove(engine, &h.id, false).await?;
                if let Some(lease_id) = &h.lease_id {
                    super::apply::remove(engine, lease_id, false).await?;
                }
                continue;
            }
            let held = format!(
                "another deployment of project {project} holds the lock: {} since {} (its lease runs {}s more)",
                h.owner,
                humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(h.since)),
                h.expires.unwrap_or(0).saturating_sub(now())
            );
            match wait {
                Some(limit) if started.elapsed() < limit => {
                    // Waiting only reads: a signal ends it between calls.
                    cancel.check()?;
                    if !announced {
                        say(&format!("{held}; waiting up to {}s", limit.as_secs()));
                        announced = true;
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Some(limit) => {
                    return Err(Error::Timeout {
                        what: format!("the deploy lock ({held})"),
                        secs: limit.as_secs(),
                    });
                }
                None => {
                    return Err(Error::Refused(format!(
                        "{held}; pass --wait-lock to wait for it"
                    )));
                }
            }
        }
    }

    /// Creates the lease and starts renewing it.
    async fn hold(
        engine: &Engine,
        project: &str,
        id: String,
        lease: Duration,
        cancel: &Cancel,
    ) -> Result<Lock, Error> {
        let first = lease_name(project, &id, now() + lease.as_secs());
        let of = [(LEASE_OF, id.clone())];
        let lease_id = match create_marker(engine, &first, project, Role::Lease, &of).await {
            Ok(l) => l,
            Err(e) => {
                let _ = super::apply::remove(engine, &id, false).await;
                return Err(e);
            }
        };
        let keeper = {
            let (engine, project, lock_id, lease_id, cancel) = (
                engine.clone(),
                project.to_owned(),
                id.clone(),
                lease_id.clone(),
                cancel.clone(),
            );
            tokio::spawn(async move {
                let every = (lease / 3).max(Duration::from_millis(500));
                loop {
                    tokio::time::sleep(every).await;
                    let to = lease_name(&project, &lock_id, now() + lease.as_secs());
                    let options = RenameContainerOptionsBuilder::default().name(&to).build();
                    if let Err(e) = engine.docker.rename_container(&lease_id, options).await
                        && is_not_found(&e)
                    {
                        cancel.request("the deploy lock was broken by another deployer");
                        return;
                    }
                    // Another failure may be transient: the next renewal comes before the lease ends.
                }
            })
        };
        Ok(Lock {
            id,
            lease: lease_id,
            keeper,
        })
    }

    /// Releases the lock (by ID).
    pub async fn release(self, engine: &Engine) -> Result<(), Error> {
        self.keeper.abort();
        super::apply::remove(engine, &self.id, false).await?;
        super::apply::remove(engine, &self.lease, false).await
    }
}

/// Creates a never-started container from the lock image: a lock, a lease
/// or a journal entry, with who and since when in its labels. Returns its ID.
pub async fn create_marker(
    engine: &Engine,
    name: &str,
    project: &str,
    role: Role,
    extra: &[(&str, String)],
) -> Result<String, Error> {
    let who = crate::history::who();
    let mut labels_map = HashMap::from([
        (
            labels::WHO.to_owned(),
            format!("{who} (pid {})", std::process::id()),
        ),
        (labels::SINCE.to_owned(), now().to_string()),
        (labels::ROLE.to_owned(), role.as_str().to_owned()),
        (labels::PROJECT.to_owned(), project.to_owned()),
    ]);
    for (k, v) in extra {
        labels_map.insert((*k).to_owned(), v.clone());
    }
    let body = ContainerCreateBody {
        image: Some(LOCK_IMAGE.to_owned()),
        cmd: Some(vec![role.as_str().to_owned()]),
        labels: Some(labels_map),
        network_disabled: Some(true),
        ..ContainerCreateBody::default()
    };
    let options = CreateContainerOptionsBuilder::default().name(name).build();
    engine
        .docker
        .create_container(Some(options), body)
        .await
        .map(|r| r.id)
        .ctx(|| format!("create {name}"))
}

/// The lock's holder, with its lease's expiry; `None` when there is no lock.
async fn holder(engine: &Engine, name: &str) -> Result<Option<Holder>, Error> {
    let lock = match engine.docker.inspect_container(name, None).await {
        Ok(c) => c,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e).ctx(|| format!("inspect the deploy lock {name}")),
    };
    let id = lock.id.unwrap_or_default();
    let labels_map = lock.config.and_then(|c| c.labels).unwrap_or_default();
    let get = |k: &str| labels_map.get(k).cloned().unwrap_or_default();
    let filters = HashMap::from([("label".to_owned(), vec![format!("{LEASE_OF}={id}")])]);
    let leases = engine
        .docker
        .list_containers(Some(
            ListContainersOptionsBuilder::default()
                .all(true)
                .filters(&filters)
                .build(),
        ))
        .await
        .ctx(|| format!("find the lease of the deploy lock {name}"))?;
    let lease = leases.into_iter().next();
    let expires = lease.as_ref().and_then(|l| {
        l.names
            .as_ref()?
            .first()?
            .rsplit('.')
            .next()?
            .parse::<u64>()
            .ok()
    });
    // A lock written by an older mrs-deploy: its own expiry label, no lease.
    let legacy = get("io.mrs-deploy.lock.expires").parse::<u64>().ok();
    Ok(Some(Holder {
        id,
        owner: Some(get(labels::WHO))
            .filter(|w| !w.is_empty())
            .unwrap_or_else(|| get(LEGACY_OWNER)),
        since: get(labels::SINCE)
            .parse()
            .or_else(|_| get("io.mrs-deploy.lock.since").parse())
            .unwrap_or(0),
        expires: expires.or(legacy),
        lease_id: lease.and_then(|l| l.id),
        lease_secs: get(LEASE_SECS).parse().unwrap_or(0),
    }))
}

/// Builds the lock image when the engine lacks it: `FROM scratch` and a label.
async fn ensure_image(engine: &Engine) -> Result<(), Error> {
    if super::observe::image(engine, LOCK_IMAGE).await?.is_some() {
        return Ok(());
    }
    let dockerfile = b"FROM scratch\nLABEL io.mrs-deploy.role=lock\n";
    let mut archive = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(dockerfile.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    archive
        .append_data(&mut header, "Dockerfile", &dockerfile[..])
        .map_err(|source| Error::Io {
            action: "build",
            path: "the lock image context".into(),
            source,
        })?;
    let context = archive.into_inner().map_err(|source| Error::Io {
        action: "build",
        path: "the lock image context".into(),
        source,
    })?;
    let options = BuildImageOptionsBuilder::default()
        .t(LOCK_IMAGE)
        .rm(true)
        .build();
    let mut stream =
        engine
            .docker
            .build_image(options, None, Some(bollard::body_full(context.into())));
    while let Some(item) = stream.next().await {
        let info = item.ctx(|| format!("build {LOCK_IMAGE}"))?;
        if let Some(e) = info.error_detail.and_then(|d| d.message) {
            return Err(Error::Refused(format!("build {LOCK_IMAGE}: {e}")));
        }
    }
    Ok(())
}
