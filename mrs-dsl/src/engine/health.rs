//! The health gate: containers running (and healthy where they have a
//! health check), then the environment's HTTP check. Every wait has a deadline.

use std::time::{Duration, Instant};

use bollard::models::{ContainerStateStatusEnum, HealthStatusEnum};

use super::{Context, Engine, Error};

/// A container's state, as far as the gate cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Not there yet, or starting.
    Pending(String),
    /// Running and, with a health check, healthy.
    Ready,
    /// Exited, dead or unhealthy.
    Failed(String),
}

/// Reads a container's state.
///
/// With `restarts`, a container restarted more times than that (its restart
/// policy brings it back after each crash, so it may look running whenever it
/// is looked at) has failed.
pub async fn state(
    engine: &Engine,
    name: &str,
    needs_health: bool,
    restarts: Option<i64>,
) -> Result<State, Error> {
    let c = engine
        .docker
        .inspect_container(name, None)
        .await
        .ctx(|| format!("inspect container {name}"))?;
    let s = c.state.unwrap_or_default();
    if let Some(baseline) = restarts
        && c.restart_count.unwrap_or(0) > baseline
    {
        return Ok(State::Failed(format!(
            "{name} exited with code {} and was restarted {} time(s) by its restart policy",
            s.exit_code.unwrap_or(-1),
            c.restart_count.unwrap_or(0) - baseline
        )));
    }
    let status = s.status.unwrap_or(ContainerStateStatusEnum::EMPTY);
    Ok(match status {
        ContainerStateStatusEnum::RUNNING => {
            if !needs_health {
                return Ok(State::Ready);
            }
            match s
                .health
                .and_then(|h| h.status)
                .unwrap_or(HealthStatusEnum::EMPTY)
            {
                HealthStatusEnum::HEALTHY => State::Ready,
                HealthStatusEnum::UNHEALTHY => State::Failed(format!("{name} is unhealthy")),
                other => State::Pending(format!("{name} is {other}")),
            }
        }
        ContainerStateStatusEnum::EXITED | ContainerStateStatusEnum::DEAD => {
            let code = s.exit_code.unwrap_or(-1);
            let err = s
                .error
                .filter(|e| !e.is_empty())
                .map(|e| format!(": {e}"))
                .unwrap_or_default();
            State::Failed(format!("{name} exited with code {code}{err}"))
        }
        ContainerStateStatusEnum::RESTARTING => State::Failed(format!(
            "{name} keeps restarting: it exited with code {}",
            s.exit_code.unwrap_or(-1)
        )),
        other => State::Pending(format!("{name} is {other}")),
    })
}

/// Waits until `name` is ready, failed, or the deadline passes.
pub async fn wait_ready(
    engine: &Engine,
    name: &str,
    needs_health: bool,
    restarts: Option<i64>,
    deadline: Instant,
) -> Result<(), Error> {
    loop {
        let last = match state(engine, name, needs_health, restarts).await? {
            State::Ready => return Ok(()),
            State::Failed(why) => return Err(Error::Refused(why)),
            State::Pending(why) => why,
        };
        if Instant::now() >= deadline {
            return Err(Error::Refused(format!("{name} not ready in time ({last})")));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Waits until `name` exited with code 0 (`service_completed_successfully`).
pub async fn wait_completed(engine: &Engine, name: &str, deadline: Instant) -> Result<(), Error> {
    loop {
        let c = engine
            .docker
            .inspect_container(name, None)
            .await
            .ctx(|| format!("inspect container {name}"))?;
        let s = c.state.unwrap_or_default();
        if matches!(s.status, Some(ContainerStateStatusEnum::EXITED)) {
            return match s.exit_code {
                Some(0) => Ok(()),
                code => Err(Error::Refused(format!(
                    "service container {name} didn't complete successfully: exit {}",
                    code.unwrap_or(-1)
                ))),
            };
        }
        if Instant::now() >= deadline {
            return Err(Error::Refused(format!("{name} did not complete in time")));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The HTTP check to run.
#[derive(Debug, Clone)]
pub struct HttpCheck {
    /// URL (with its `?test=<uuid>`).
    pub url: String,
    /// Basic auth.
    pub basic_auth: Option<(String, mrs_env::secret::Secret)>,
    /// Connect here instead of the URL's host (`host:port`).
    pub connect_to: Option<String>,
    /// Expected status.
    pub expect: u16,
}

/// Fetches the URL every second until it answers the expected status or the
/// deadline passes; `progress` is told each attempt's outcome.
pub async fn http_check(
    check: &HttpCheck,
    deadline: Instant,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<(), Error> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none());
    // With `connect_to`, the request goes to that address with the URL's host
    // in the Host header, as a load balancer in front of the app would see it.
    let (target, host_header) = match &check.connect_to {
        Some(addr) => {
            let mut url = reqwest::Url::parse(&check.url)
                .map_err(|e| Error::Refused(format!("invalid health URL {}: {e}", check.url)))?;
            let host = match url.port() {
                Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
                None => url.host_str().unwrap_or_default().to_owned(),
            };
            let (h, p) = addr
                .rsplit_once(':')
                .ok_or_else(|| Error::Refused(format!("`connect_to` {addr} is not host:port")))?;
            url.set_host(Some(h))
                .map_err(|e| Error::Refused(format!("`connect_to` {addr}: {e}")))?;
            url.set_port(p.parse().ok())
                .map_err(|()| Error::Refused(format!("`connect_to` {addr}: bad port")))?;
            (url.to_string(), Some(host))
        }
        None => (check.url.clone(), None),
    };
    // Plain HTTP needs no certificates: loading the system's takes longer than the check.
    let builder = if target.starts_with("http://") {
        builder.tls_certs_only(std::iter::empty())
    } else {
        builder
    };
    let client = builder
        .build()
        .map_err(|e| Error::Refused(format!("cannot build the HTTP client: {e}")))?;
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let mut request = client.get(&target);
        if let Some(h) = &host_header {
            request = request.header(reqwest::header::HOST, h);
        }
        if let Some((user, password)) = &check.basic_auth {
            request = request.basic_auth(user, Some(password.expose()));
        }
        let outcome = match request.send().await {
            Ok(r) if r.status().as_u16() == check.expect => return Ok(()),
            Ok(r) => format!("HTTP {}", r.status().as_u16()),
            Err(e) => root_cause(&e).to_string(),
        };
        progress(&format!("health check attempt {attempt}: {outcome}"));
        if Instant::now() + Duration::from_secs(1) >= deadline {
            return Err(Error::Refused(format!(
                "health check {} did not answer {} in time (last: {outcome})",
                check.url, check.expect
            )));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// The gate: every desired container running (healthy where it has a
/// health check), or exited 0 when something waits for it to complete.
///
/// A container in `changed` must not have been restarted at all; one that
/// was kept must not restart during the gate. With `settle`, processes that
/// die right after starting get a moment to do so (after a change).
pub async fn gate(
    engine: &Engine,
    desired: &super::desired::Desired,
    changed: &std::collections::HashSet<String>,
    settle: bool,
    deadline: Instant,
    say: &(dyn Fn(&str) + Sync),
) -> Result<(), Error> {
    use mrs_compose::model::Condition;
    if settle {
        say("waiting for the containers to be running and healthy");
    }
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
        let one_shot = desired.containers.iter().any(|x| {
            x.depends_on.iter().any(|(d, cond)| {
                *d == c.service && *cond == Condition::ServiceCompletedSuccessfully
            })
        });
        if one_shot {
            return wait_completed(engine, &c.name, deadline).await;
        }
        wait_ready(engine, &c.name, c.has_healthcheck, Some(restarts), deadline).await?;
        if !settle {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        match state(engine, &c.name, c.has_healthcheck, Some(restarts)).await? {
            State::Failed(why) => Err(Error::Refused(why)),
            _ => Ok(()),
        }
    });
    for r in futures_util::future::join_all(waits).await {
        r?;
    }
    Ok(())
}
