//! The PostgreSQL side: connection parameters from the environment, a real
//! connection (password authentication, md5 or SCRAM-SHA-256) and the
//! `SELECT 1` check, with retries.

use std::fmt;
use std::time::{Duration, Instant};

use postgres::{Client, NoTls, SimpleQueryMessage};

use crate::resolve;

/// Where and as whom to connect.
#[derive(Clone, PartialEq, Eq)]
pub struct DbParams {
    /// `DB_HOST`, default `postgres`.
    pub host: String,
    /// `DB_PORT`, default 5432.
    pub port: u16,
    /// `DB_USER`, default `postgres`.
    pub user: String,
    /// `DB_PASSWORD`, default empty.
    pub password: String,
    /// `DB_NAME`, default the user name (as libpq does).
    pub dbname: String,
}

impl fmt::Debug for DbParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for DbParams {
    /// `user@host:port/dbname`, without the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}@{}:{}/{}",
            self.user, self.host, self.port, self.dbname
        )
    }
}

impl DbParams {
    /// Reads the parameters through `lookup` (an environment); empty values
    /// count as unset.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, String> {
        let get = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let port = match get("DB_PORT") {
            None => 5432,
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| format!("DB_PORT `{p}` is not a port number"))?,
        };
        let user = get("DB_USER").unwrap_or_else(|| "postgres".to_owned());
        Ok(DbParams {
            host: get("DB_HOST").unwrap_or_else(|| "postgres".to_owned()),
            port,
            dbname: get("DB_NAME").unwrap_or_else(|| user.clone()),
            user,
            password: lookup("DB_PASSWORD").unwrap_or_default(),
        })
    }

    /// Reads the parameters from the process environment.
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }
}

/// Opens a connection, trying each address `host` resolves to.
pub fn connect(params: &DbParams, timeout: Duration) -> Result<Client, String> {
    let addrs = if params.host.starts_with('/') {
        Vec::new() // a Unix socket directory: no resolution
    } else {
        resolve::resolve(&params.host, params.port).map_err(|e| e.to_string())?
    };
    let mut config = postgres::Config::new();
    config
        .host(&params.host)
        .port(params.port)
        .user(&params.user)
        .password(&params.password)
        .dbname(&params.dbname)
        .application_name("mrs-standin")
        .connect_timeout(timeout);
    if addrs.is_empty() {
        return config.connect(NoTls).map_err(|e| describe(&e));
    }
    let mut last = String::new();
    for addr in addrs {
        let mut config = config.clone();
        config.hostaddr(addr.ip());
        match config.connect(NoTls) {
            Ok(client) => return Ok(client),
            Err(e) => last = format!("{}: {}", addr.ip(), describe(&e)),
        }
    }
    Err(last)
}

/// Connects and runs `SELECT 1`.
pub fn ping(params: &DbParams, timeout: Duration) -> Result<(), String> {
    let mut client = connect(params, timeout)?;
    let messages = client.simple_query("SELECT 1").map_err(|e| describe(&e))?;
    let one = messages.iter().any(|m| match m {
        SimpleQueryMessage::Row(row) => row.get(0) == Some("1"),
        _ => false,
    });
    if one {
        Ok(())
    } else {
        Err("`SELECT 1` returned no 1".to_owned())
    }
}

/// Connects (and checks with `SELECT 1`) until it works or `total` has
/// passed, trying once a second; `on_retry` is told each failure. Returns
/// a connected client, or the last error.
pub fn wait_until_ready(
    params: &DbParams,
    total: Duration,
    on_retry: &dyn Fn(&str),
) -> Result<Client, String> {
    let deadline = Instant::now() + total;
    loop {
        let started = Instant::now();
        let left = deadline.saturating_duration_since(started);
        let attempt_timeout = left.clamp(Duration::from_secs(1), Duration::from_secs(5));
        let result = connect(params, attempt_timeout).and_then(|mut client| {
            client
                .simple_query("SELECT 1")
                .map_err(|e| describe(&e))
                .map(|_| client)
        });
        match result {
            Ok(client) => return Ok(client),
            Err(e) => {
                let next = started + Duration::from_secs(1);
                if next >= deadline {
                    return Err(e);
                }
                on_retry(&e);
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
            }
        }
    }
}

/// An error with its sources, e.g. `db error: FATAL: password
/// authentication failed for user "x"`.
pub fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn defaults() {
        let p = DbParams::from_lookup(&env(&[])).expect("defaults are valid");
        assert_eq!(p.host, "postgres");
        assert_eq!(p.port, 5432);
        assert_eq!(p.user, "postgres");
        assert_eq!(p.dbname, "postgres");
        assert_eq!(p.password, "");
    }

    #[test]
    fn reads_the_environment() {
        let vars = [
            ("DB_HOST", "pg"),
            ("DB_USER", "django"),
            ("DB_PASSWORD", "s3cret"),
            ("DB_NAME", ""),
            ("DB_PORT", "5433"),
        ];
        let p = DbParams::from_lookup(&env(&vars)).expect("valid");
        assert_eq!(p.to_string(), "django@pg:5433/django");
        assert_eq!(p.password, "s3cret");
        assert!(!format!("{p:?}").contains("s3cret"));
        assert!(DbParams::from_lookup(&env(&[("DB_PORT", "x")])).is_err());
    }
}
