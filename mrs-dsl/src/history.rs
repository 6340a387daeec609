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

/// SHA-256 of the running binary (`unknown` when it cannot be read).
///
/// Hashing megabytes on every run would be most of a no-op `up`, so the hash
/// is remembered in the environment's state folder under the file's identity:
/// device, inode, size and change time (any write to the file, or a new file
/// in its place, changes one of them; a change time cannot be set back).
/// Computed once per process (call it early on a blocking thread).
pub fn binary_sha256(home: &Path) -> String {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let Ok(exe) = std::env::current_exe() else {
            return "unknown".into();
        };
        let Ok(meta) = std::fs::metadata(&exe) else {
            return "unknown".into();
        };
        let identity = file_identity(&meta);
        let cache = state_dir(home).join("binary-sha256");
        if let Some(hash) = std::fs::read_to_string(&cache)
            .ok()
            .and_then(|t| t.strip_prefix(&identity).map(|h| h.trim().to_owned()))
            .filter(|h| h.len() == 64)
        {
            return hash;
        }
        match hash_file(&exe) {
            Ok(hash) => {
                // Best effort: a state folder that cannot be written only costs the next run a hash.
                let _ = std::fs::create_dir_all(state_dir(home))
                    .and_then(|()| std::fs::write(&cache, format!("{identity}{hash}\n")));
                hash
            }
            Err(_) => "unknown".into(),
        }
    })
    .clone()
}

/// `dev ino size ctime.nsec ` of a file.
fn file_identity(meta: &std::fs::Metadata) -> String {
    use std::os::unix::fs::MetadataExt;
    format!(
        "{} {} {} {}.{:09} ",
        meta.dev(),
        meta.ino(),
        meta.size(),
        meta.ctime(),
        meta.ctime_nsec()
    )
}

/// SHA-256 of a file, read in chunks.
fn hash_file(path: &Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    use std::io::Read as _;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(mrs_env::catalog::hex(&hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_hashed_in_chunks_and_its_identity_changes_with_it() {
        let dir = std::env::temp_dir().join(format!("mrs-hash-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("f");
        std::fs::write(&path, "abc").expect("write");
        assert_eq!(
            hash_file(&path).expect("hash"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let before = file_identity(&std::fs::metadata(&path).expect("stat"));
        std::thread::sleep(std::time::Duration::from_millis(10));
        std::fs::write(&path, "abd").expect("rewrite");
        let after = file_identity(&std::fs::metadata(&path).expect("stat"));
        assert_ne!(
            before, after,
            "a write changes the identity the cache is keyed by"
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn the_binary_hash_is_remembered_under_its_identity() {
        let home = std::env::temp_dir().join(format!("mrs-binhash-{}", std::process::id()));
        let hash = binary_sha256(&home);
        let exe = std::env::current_exe().expect("exe");
        assert_eq!(hash, hash_file(&exe).expect("hash"));
        let cached =
            std::fs::read_to_string(state_dir(&home).join("binary-sha256")).expect("cache");
        let identity = file_identity(&std::fs::metadata(&exe).expect("stat"));
        assert_eq!(cached, format!("{identity}{hash}\n"));
        std::fs::remove_dir_all(&home).ok();
    }

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
