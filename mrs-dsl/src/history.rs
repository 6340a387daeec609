//! The deploy history: one JSON line per `up`, `down` or rollback, in the
//! environment's state folder (`<home>/.mrs-deploy/history.jsonl`).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// One record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Who (`user@host`).
    pub who: String,
    /// `up`, `down`...
    pub command: String,
    /// Environment.
    pub env: String,
    /// Project.
    pub project: String,
    /// SHA-256 of the running binary.
    pub binary_sha256: String,
    /// SHA-256 of the embedded environment spec.
    pub spec_sha256: String,
    /// Outcome (`ok`, `rolled-back`...).
    pub outcome: String,
    /// Containers created or recreated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<String>,
    /// The error, when there was one (redacted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The deploy's ID (its journal on the engine), when it changed containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy: Option<String>,
}

/// The outcome written when a deploy starts changing containers; a record
/// with the same deploy ID follows unless the process died.
pub const IN_PROGRESS: &str = "in-progress";

/// Whether `records[i]` is a deploy that started and has no later record: it was interrupted.
pub fn is_interrupted(records: &[Record], i: usize) -> bool {
    let r = &records[i];
    r.outcome == IN_PROGRESS
        && !records[i + 1..]
            .iter()
            .any(|later| later.deploy.is_some() && later.deploy == r.deploy)
}

/// The state folder of an environment.
pub fn state_dir(home: &Path) -> PathBuf {
    home.join(".mrs-deploy")
}

/// The history file.
pub fn path(home: &Path) -> PathBuf {
    state_dir(home).join("history.jsonl")
}

/// Appends a record.
pub fn append(home: &Path, record: &Record) -> std::io::Result<()> {
    let dir = state_dir(home);
    std::fs::create_dir_all(&dir)?;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path(home))?;
    let line = serde_json::to_string(record).map_err(std::io::Error::other)?;
    writeln!(f, "{line}")
}

/// Reads every record (oldest first); unreadable lines are skipped.
pub fn read(home: &Path) -> std::io::Result<Vec<Record>> {
    match std::fs::read_to_string(path(home)) {
        Ok(text) => Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// Now, RFC 3339.
pub fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// The user running this process: `$USER`, `$LOGNAME`, else the name of its uid in /etc/passwd.
pub fn user() -> String {
    if let Some(u) = ["USER", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|u| !u.is_empty()))
    {
        return u;
    }
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("Uid:")
                    .and_then(|r| r.split_whitespace().next().map(str::to_owned))
            })
        });
    let Some(uid) = uid else {
        return "unknown".into();
    };
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|p| {
            p.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.get(2) == Some(&uid.as_str())).then(|| f[0].to_owned())
            })
        })
        .unwrap_or_else(|| format!("uid {uid}"))
}

/// `user@host`.
pub fn who() -> String {
    let user = user();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default();
    format!("{user}@{host}")
}

/// SHA-256 of the running binary.
/// Computed once per process (call it early on a blocking thread to have
/// it ready when the record is written).
pub fn binary_sha256() -> String {
    use sha2::{Digest, Sha256};
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        std::env::current_exe()
            .and_then(std::fs::read)
            .map(|bytes| mrs_env::catalog::hex(&Sha256::digest(&bytes)))
            .unwrap_or_default()
    })
    .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_and_reads_back() {
        let home = std::env::temp_dir().join(format!("mrs-history-{}", std::process::id()));
        let record = Record {
            at: now(),
            who: who(),
            command: "up".into(),
            env: "local".into(),
            project: "p".into(),
            binary_sha256: "b".into(),
            spec_sha256: "s".into(),
            outcome: "ok".into(),
            changed: vec!["p-django-1".into()],
            error: None,
            deploy: Some("d1".into()),
        };
        append(&home, &record).expect("append");
        append(
            &home,
            &Record {
                outcome: "rolled-back".into(),
                ..record
            },
        )
        .expect("append");
        let back = read(&home).expect("read");
        assert_eq!(
            back.iter().map(|r| r.outcome.as_str()).collect::<Vec<_>>(),
            ["ok", "rolled-back"]
        );
        let started = Record {
            outcome: IN_PROGRESS.into(),
            ..back[0].clone()
        };
        let done = back[1].clone();
        assert!(is_interrupted(std::slice::from_ref(&started), 0));
        assert!(!is_interrupted(&[started, done], 0));
        std::fs::remove_dir_all(&home).ok();
    }
}
