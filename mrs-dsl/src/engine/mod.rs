//! The Docker Engine side: connection, desired and observed state, plan,
//! convergence, health gate, rollback, lock, and day-to-day operations.
//!
//! Nothing here knows about macros: it takes a resolved environment
//! ([`mrs_env::spec::Resolved`]) and the engine.

pub mod apply;
pub mod cancel;
pub mod desired;
pub mod diff;
pub mod down;
pub mod health;
pub mod journal;
pub mod labels;
pub mod lock;
pub mod observe;
pub mod ops;
pub mod plan;

use std::time::Duration;

use bollard::Docker;
use bollard::errors::Error as BollardError;

/// Engine errors, each saying what was being done.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No engine answered.
    #[error("the Docker Engine at {host} is unreachable: {reason}")]
    Unreachable {
        /// `DOCKER_HOST` or the default socket.
        host: String,
        /// Why.
        reason: String,
    },
    /// An API call failed.
    #[error("{action}: {message}")]
    Api {
        /// What was being done.
        action: String,
        /// The engine's message.
        message: String,
        /// HTTP status, when the engine answered.
        status: Option<u16>,
    },
    /// A wait ran past its deadline.
    #[error("timed out after {secs}s waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// The deadline.
        secs: u64,
    },
    /// A local file operation failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Anything else, said plainly.
    #[error("{0}")]
    Refused(String),
    /// A signal (or the loss of the deploy lock) stopped the deploy.
    #[error("{0}")]
    Interrupted(String),
}

impl Error {
    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => *status,
            _ => None,
        }
    }
}

/// Attaches "what was being done" to engine results.
pub trait Context<T> {
    /// Names the action.
    fn ctx(self, action: impl FnOnce() -> String) -> Result<T, Error>;
}

impl<T> Context<T> for Result<T, BollardError> {
    fn ctx(self, action: impl FnOnce() -> String) -> Result<T, Error> {
        self.map_err(|e| {
            let (status, message) = match &e {
                BollardError::DockerResponseServerError {
                    status_code,
                    message,
                } => (Some(*status_code), message.clone()),
                other => (None, other.to_string()),
            };
            Error::Api {
                action: action(),
                message,
                status,
            }
        })
    }
}

/// A connected engine.
#[derive(Clone)]
pub struct Engine {
    /// The bollard client.
    pub docker: Docker,
    /// Where it is, for messages.
    pub host: String,
}

/// How long to wait for the engine to answer a ping.
const PING_TIMEOUT: Duration = Duration::from_secs(5);

impl Engine {
    /// Connects through `DOCKER_HOST` (unix or tcp) or the default socket,
    /// negotiates the API version and checks the engine answers.
    pub async fn connect() -> Result<Engine, Error> {
        let host =
            std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
        let unreachable = |reason: String| Error::Unreachable {
            host: host.clone(),
            reason,
        };
        let docker = Docker::connect_with_defaults().map_err(|e| unreachable(e.to_string()))?;
        // Negotiating the version is a request: it also proves the engine answers.
        let docker = tokio::time::timeout(PING_TIMEOUT, docker.negotiate_version())
            .await
            .map_err(|_| unreachable(format!("no answer within {}s", PING_TIMEOUT.as_secs())))?
            .map_err(|e| unreachable(e.to_string()))?;
        Ok(Engine { docker, host })
    }

    /// Whether the engine runs on this machine (so host ports and folders are ours to check).
    pub fn is_local(&self) -> bool {
        self.host.starts_with("unix://")
            || self.host.contains("://localhost")
            || self.host.contains("://127.0.0.1")
    }
}

/// Whether an engine error is a 404 (the object is gone).
pub fn is_not_found(e: &BollardError) -> bool {
    matches!(
        e,
        BollardError::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// Runs `f` with a deadline, turning the timeout into [`Error::Timeout`].
pub async fn deadline<T>(
    secs: u64,
    what: impl Into<String>,
    f: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    match tokio::time::timeout(Duration::from_secs(secs), f).await {
        Ok(r) => r,
        Err(_) => Err(Error::Timeout {
            what: what.into(),
            secs,
        }),
    }
}
