//! One deployment of an environment on an engine at a time.
//!
//! The lock lives on the engine itself, so it holds across machines that
//! deploy to the same engine: a container named `mrs-deploy-lock.<project>`,
//! created (never started) from a tiny local image. Creating a container
//! with a taken name fails atomically. Its labels say who holds it, since
//! when and until when; an expired lock, or one whose holder process died on
//! this machine, is broken with a warning.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{BuildImageOptionsBuilder, CreateContainerOptionsBuilder};
use futures_util::StreamExt;

use super::{Context, Engine, Error};

/// The image lock containers are created from (built locally, no registry).
pub const LOCK_IMAGE: &str = "mrs-deploy/lock:1";

const OWNER: &str = "io.mrs-deploy.lock.owner";
const HOSTNAME: &str = "io.mrs-deploy.lock.host";
const PID: &str = "io.mrs-deploy.lock.pid";
const SINCE: &str = "io.mrs-deploy.lock.since";
const EXPIRES: &str = "io.mrs-deploy.lock.expires";
const ROLE: &str = "io.mrs-deploy.role";

/// A held lock; release it with [`Lock::release`].
pub struct Lock {
    name: String,
}

/// Who holds a lock.
#[derive(Debug, Clone)]
pub struct Holder {
    /// `user@host (pid N)`.
    pub owner: String,
    /// Unix seconds.
    pub since: u64,
    /// Unix seconds.
    pub expires: u64,
    host: String,
    pid: i32,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "unknown".into())
}

/// The lock container's name for a project.
pub fn lock_name(project: &str) -> String {
    format!("mrs-deploy-lock.{project}")
}

impl Lock {
    /// Takes the lock for `project`, held at most `ttl`. With `wait`, waits up
    /// to that long for a held lock (printing who holds it); without, fails at once.
    pub async fn acquire(
        engine: &Engine,
        project: &str,
        ttl: Duration,
        wait: Option<Duration>,
        say: &dyn Fn(&str),
    ) -> Result<Lock, Error> {
        ensure_image(engine).await?;
        let name = lock_name(project);
        let started = std::time::Instant::now();
        let mut announced = false;
        loop {
            match create(engine, &name, ttl).await {
                Ok(()) => return Ok(Lock { name }),
                Err(e) if e.status() == Some(409) => {}
                Err(e) => return Err(e),
            }
            let holder = holder(engine, &name).await?;
            if let Some(h) = &holder {
                let dead = h.host == this_host() && h.pid > 0 && !pid_alive(h.pid);
                if h.expires <= now() || dead {
                    let why = if dead {
                        "its process is gone"
                    } else {
                        "it expired"
                    };
                    say(&format!(
                        "warning: breaking the stale deploy lock of {} held by {} ({why})",
                        project, h.owner
                    ));
                    remove(engine, &name).await?;
                    continue;
                }
            } else {
                continue;
            }
            let h = holder.unwrap_or_else(|| Holder {
                owner: "?".into(),
                since: 0,
                expires: 0,
                host: String::new(),
                pid: 0,
            });
            let held = format!(
                "another deployment of project {project} holds the lock: {} since {} (expires in {}s)",
                h.owner,
                humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(h.since)),
                h.expires.saturating_sub(now())
            );
            match wait {
                Some(limit) if started.elapsed() < limit => {
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

    /// Releases the lock.
    pub async fn release(self, engine: &Engine) -> Result<(), Error> {
        remove(engine, &self.name).await
    }
}

async fn create(engine: &Engine, name: &str, ttl: Duration) -> Result<(), Error> {
    let user = crate::history::user();
    let host = this_host();
    let pid = std::process::id();
    let since = now();
    let labels = HashMap::from([
        (OWNER.to_owned(), format!("{user}@{host} (pid {pid})")),
        (HOSTNAME.to_owned(), host),
        (PID.to_owned(), pid.to_string()),
        (SINCE.to_owned(), since.to_string()),
        (EXPIRES.to_owned(), (since + ttl.as_secs()).to_string()),
        (ROLE.to_owned(), "lock".to_owned()),
    ]);
    let body = ContainerCreateBody {
        image: Some(LOCK_IMAGE.to_owned()),
        cmd: Some(vec!["lock".into()]),
        labels: Some(labels),
        network_disabled: Some(true),
        ..ContainerCreateBody::default()
    };
    let options = CreateContainerOptionsBuilder::default().name(name).build();
    engine
        .docker
        .create_container(Some(options), body)
        .await
        .ctx(|| format!("create the deploy lock {name}"))?;
    Ok(())
}

async fn holder(engine: &Engine, name: &str) -> Result<Option<Holder>, Error> {
    match engine.docker.inspect_container(name, None).await {
        Ok(c) => {
            let labels = c.config.and_then(|c| c.labels).unwrap_or_default();
            let get = |k: &str| labels.get(k).cloned().unwrap_or_default();
            Ok(Some(Holder {
                owner: get(OWNER),
                since: get(SINCE).parse().unwrap_or(0),
                expires: get(EXPIRES).parse().unwrap_or(0),
                host: get(HOSTNAME),
                pid: get(PID).parse().unwrap_or(0),
            }))
        }
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(None),
        Err(e) => Err(e).ctx(|| format!("inspect the deploy lock {name}")),
    }
}

async fn remove(engine: &Engine, name: &str) -> Result<(), Error> {
    super::apply::remove(engine, name).await
}

fn pid_alive(pid: i32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Builds the lock image when the engine lacks it: `FROM scratch` and a label.
async fn ensure_image(engine: &Engine) -> Result<(), Error> {
    if super::observed::image_id(engine, LOCK_IMAGE)
        .await?
        .is_some()
    {
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
