//! Day-to-day operations: `ps`, `logs`, `exec`.

use std::time::Duration;

use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::query_parameters::LogsOptionsBuilder;
use futures_util::StreamExt;
use serde::Serialize;

use super::journal::{self, Role};
use super::{Context, Engine, Error, observe};

/// One row of `ps`.
#[derive(Debug, Serialize)]
pub struct Row {
    /// Container name.
    pub name: String,
    /// Service.
    pub service: String,
    /// State (`running`, `exited`...).
    pub state: String,
    /// Status with health (`Up 2 minutes (healthy)`).
    pub status: String,
}

/// What `ps` shows.
#[derive(Debug, Serialize)]
pub struct Ps {
    /// Service containers.
    pub containers: Vec<Row>,
    /// Deploys that did not end.
    pub interrupted: Vec<journal::Interrupted>,
}

/// The project's service containers, and its interrupted deploys.
pub async fn ps(engine: &Engine, project: &str) -> Result<Ps, Error> {
    let all = observe::containers(engine, project).await?;
    let interrupted = journal::interrupted(&all);
    let mut rows: Vec<Row> = all
        .into_iter()
        .filter(|c| !c.oneoff && Role::of(c).is_service())
        .map(|c| Row {
            name: c.name,
            service: c.service,
            state: c.state.to_string(),
            status: c.status,
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Ps {
        containers: rows,
        interrupted,
    })
}

/// Prints the logs of `containers` (prefixed by service), following them with `follow`.
pub async fn logs(
    engine: &Engine,
    containers: &[(String, String)],
    follow: bool,
    tail: Option<u32>,
    out: &(dyn Fn(&str) + Sync),
) -> Result<(), Error> {
    let streams = containers.iter().map(|(name, prefix)| {
        let tail = tail.map_or_else(|| "all".to_owned(), |t| t.to_string());
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .follow(follow)
            .tail(&tail)
            .build();
        engine
            .docker
            .logs(name, Some(options))
            .map(move |item| (prefix.clone(), name.clone(), item))
    });
    let mut merged = futures_util::stream::select_all(streams.map(Box::pin));
    while let Some((prefix, name, item)) = merged.next().await {
        let chunk = item.ctx(|| format!("read the logs of {name}"))?;
        for line in String::from_utf8_lossy(&chunk.into_bytes()).lines() {
            out(&format!("{prefix} | {line}"));
        }
    }
    Ok(())
}

/// Runs `cmd` in container `name`, streaming its output; returns its exit code.
pub async fn exec(
    engine: &Engine,
    name: &str,
    cmd: Vec<String>,
    stdout: &(dyn Fn(&[u8]) + Sync),
    stderr: &(dyn Fn(&[u8]) + Sync),
) -> Result<i64, Error> {
    let options = CreateExecOptions {
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        cmd: Some(cmd.clone()),
        ..Default::default()
    };
    let exec = engine
        .docker
        .create_exec(name, options)
        .await
        .ctx(|| format!("run `{}` in {name}", cmd.join(" ")))?;
    match engine
        .docker
        .start_exec(&exec.id, None)
        .await
        .ctx(|| format!("start `{}` in {name}", cmd.join(" ")))?
    {
        StartExecResults::Attached { mut output, .. } => {
            while let Some(item) = output.next().await {
                match item.ctx(|| format!("read the output of `{}`", cmd.join(" ")))? {
                    bollard::container::LogOutput::StdErr { message } => stderr(&message),
                    other => stdout(&other.into_bytes()),
                }
            }
        }
        StartExecResults::Detached => {}
    }
    // The exit code is not in the stream; it can lag a moment behind its end.
    for _ in 0..50 {
        let info = engine
            .docker
            .inspect_exec(&exec.id)
            .await
            .ctx(|| "inspect the exec".into())?;
        if info.running != Some(true) {
            return Ok(info.exit_code.unwrap_or(-1));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(Error::Timeout {
        what: format!("`{}` to report its exit code", cmd.join(" ")),
        secs: 5,
    })
}
