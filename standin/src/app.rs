//! `app`: the MRS Django stand-in, the `betagouv/mrs:master` entrypoint.
//!
//! Refuses to start without `SECRET_KEY`; waits (up to `DB_WAIT` seconds)
//! for PostgreSQL to answer `SELECT 1`; then serves HTTP on `PORT` (8000):
//! `GET /` is 200 while the database answers, 503 otherwise; `GET /version`
//! returns `GIT_COMMIT`. Like Django, it checks the `Host` header against
//! `ALLOWED_HOSTS` (403) and, like MRS's basic-auth middleware, asks for
//! `dev:dev` unless `BASICAUTH_DISABLE` is set (401).

use std::net::{Ipv4Addr, TcpListener};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crate::db::{self, DbParams};
use crate::http::{self, Request, Response};
use crate::signals;

/// The basic-auth user name MRS's staging middleware expects.
const AUTH_USER: &str = "dev";
/// The basic-auth password MRS's staging middleware expects.
const AUTH_PASSWORD: &str = "dev";
/// How long one request's database check may take to connect.
const REQUEST_DB_TIMEOUT: Duration = Duration::from_secs(3);

/// The app's settings, from the environment.
#[derive(Debug)]
pub struct Config {
    /// Which `Host` headers are served.
    pub allowed_hosts: AllowedHosts,
    /// Whether requests need basic auth (`BASICAUTH_DISABLE` unset/empty).
    pub basic_auth: bool,
    /// The listening port (`PORT`, default 8000).
    pub port: u16,
    /// The database.
    pub db: DbParams,
    /// How long to wait for the database at start (`DB_WAIT`, default 60 s).
    pub db_wait: Duration,
    /// `GIT_COMMIT`, or `unknown`.
    pub git_commit: String,
}

impl Config {
    /// Reads the settings through `lookup`; an error names what is wrong.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, String> {
        let get = |name: &str| lookup(name).filter(|v| !v.is_empty());
        if get("SECRET_KEY").is_none() {
            return Err("SECRET_KEY is not set (or empty): refusing to start".to_owned());
        }
        let port = match get("PORT") {
            None => 8000,
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| format!("PORT `{p}` is not a port number"))?,
        };
        let db_wait = match get("DB_WAIT") {
            None => 60,
            Some(w) => w
                .parse::<u64>()
                .map_err(|_| format!("DB_WAIT `{w}` is not a number of seconds"))?,
        };
        Ok(Config {
            allowed_hosts: AllowedHosts::parse(get("ALLOWED_HOSTS").as_deref()),
            basic_auth: get("BASICAUTH_DISABLE").is_none(),
            port,
            db: DbParams::from_lookup(lookup)?,
            db_wait: Duration::from_secs(db_wait),
            git_commit: get("GIT_COMMIT").unwrap_or_else(|| "unknown".to_owned()),
        })
    }
}

/// `ALLOWED_HOSTS`, matched as Django does (without port, case-insensitive,
/// `.example.org` also matching subdomains, `*` matching anything).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedHosts {
    /// `*`: any host.
    Any,
    /// These patterns, lower-cased.
    List(Vec<String>),
}

impl AllowedHosts {
    /// Parses the comma-separated setting; unset or empty allows only
    /// `localhost` and `127.0.0.1`.
    pub fn parse(setting: Option<&str>) -> Self {
        let patterns: Vec<String> = setting
            .unwrap_or_default()
            .split(',')
            .map(|p| p.trim().to_ascii_lowercase())
            .filter(|p| !p.is_empty())
            .collect();
        if patterns.iter().any(|p| p == "*") {
            AllowedHosts::Any
        } else if patterns.is_empty() {
            AllowedHosts::List(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        } else {
            AllowedHosts::List(patterns)
        }
    }

    /// Whether a request with this `Host` header is served.
    pub fn allows(&self, host_header: Option<&str>) -> bool {
        let Some(host) = host_header.map(strip_port).filter(|h| !h.is_empty()) else {
            return false;
        };
        let host = host.to_ascii_lowercase();
        let host = host.strip_suffix('.').unwrap_or(&host);
        match self {
            AllowedHosts::Any => true,
            AllowedHosts::List(patterns) => patterns.iter().any(|p| {
                p == host
                    || p.strip_prefix('.')
                        .is_some_and(|domain| host == domain || host.ends_with(p.as_str()))
            }),
        }
    }
}

/// The host part of a `Host` header: `example.org:8000` → `example.org`,
/// `[::1]:8000` → `[::1]`.
pub fn strip_port(host: &str) -> &str {
    let host = host.trim();
    if host.starts_with('[') {
        return match host.find(']') {
            Some(end) => &host[..=end],
            None => host,
        };
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Decodes an `Authorization: Basic ...` header into user and password.
pub fn parse_basic_auth(header: &str) -> Option<(String, String)> {
    let (scheme, credentials) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(base64_decode(credentials.trim())?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// Decodes standard base64 (padding optional); `None` if invalid.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).ok()?);
        }
    }
    // A lone trailing sextet cannot encode a byte.
    if bits >= 6 {
        return None;
    }
    Some(out)
}

/// Answers one request; `db_check` runs `SELECT 1` against the database.
pub fn handle(
    config: &Config,
    request: &Request,
    db_check: &dyn Fn() -> Result<(), String>,
) -> Response {
    if !config.allowed_hosts.allows(request.header("Host")) {
        return Response::text(
            403,
            format!(
                "Invalid HTTP_HOST header: {:?}. You may need to add it to ALLOWED_HOSTS.\n",
                request.header("Host").unwrap_or_default()
            ),
        );
    }
    if config.basic_auth {
        let credentials = request.header("Authorization").and_then(parse_basic_auth);
        let ok = credentials.is_some_and(|(u, p)| u == AUTH_USER && p == AUTH_PASSWORD);
        if !ok {
            return Response::text(401, "authentication required\n")
                .with_header("WWW-Authenticate", "Basic realm=\"mrs\"");
        }
    }
    if request.method != "GET" && request.method != "HEAD" {
        return Response::text(405, "method not allowed\n").with_header("Allow", "GET, HEAD");
    }
    match request.path() {
        "/" => match db_check() {
            Ok(()) => Response::text(200, "MRS stand-in: ok, database answers\n"),
            Err(e) => Response::text(503, format!("MRS stand-in: database unavailable: {e}\n")),
        },
        "/version" => Response::text(200, format!("{}\n", config.git_commit)),
        _ => Response::text(404, "not found\n"),
    }
}

/// Runs the app; the exit code for `main`.
pub fn run() -> ExitCode {
    let config = match Config::from_lookup(&|name| std::env::var(name).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mrs app: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = signals::exit_on_termination("mrs app") {
        eprintln!("mrs app: cannot install the SIGTERM handler: {e}");
        return ExitCode::FAILURE;
    }
    println!(
        "mrs app: waiting up to {} s for the database {}",
        config.db_wait.as_secs(),
        config.db
    );
    let waited = db::wait_until_ready(&config.db, config.db_wait, &|e| {
        println!("mrs app: database not ready yet: {e}");
    });
    match waited {
        Ok(_client) => println!("mrs app: database {} answers `SELECT 1`", config.db),
        Err(e) => {
            eprintln!(
                "mrs app: database {} unreachable after {} s: {e}",
                config.db,
                config.db_wait.as_secs()
            );
            return ExitCode::FAILURE;
        }
    }
    let listener = match TcpListener::bind((Ipv4Addr::UNSPECIFIED, config.port)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("mrs app: cannot listen on 0.0.0.0:{}: {e}", config.port);
            return ExitCode::FAILURE;
        }
    };
    println!(
        "mrs app: listening on http://0.0.0.0:{} (allowed hosts: {:?}, basic auth: {}, version: {})",
        config.port,
        config.allowed_hosts,
        if config.basic_auth { "on" } else { "off" },
        config.git_commit
    );
    let config = Arc::new(config);
    http::serve(listener, "mrs app", move |request| {
        let db = &config.db;
        handle(&config, request, &|| db::ping(db, REQUEST_DB_TIMEOUT))
    });
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, target: &str, headers: &[(&str, &str)]) -> Request {
        Request {
            method: method.to_owned(),
            target: target.to_owned(),
            version: "HTTP/1.1".to_owned(),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    fn config(vars: &[(&str, &str)]) -> Result<Config, String> {
        Config::from_lookup(&|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn strips_ports() {
        assert_eq!(strip_port("localhost:8000"), "localhost");
        assert_eq!(strip_port("localhost"), "localhost");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
        assert_eq!(strip_port("[::1]"), "[::1]");
        assert_eq!(strip_port("a.b:"), "a.b");
    }

    #[test]
    fn matches_hosts() {
        let default = AllowedHosts::parse(None);
        assert!(default.allows(Some("localhost")));
        assert!(default.allows(Some("LOCALHOST:18000")));
        assert!(default.allows(Some("127.0.0.1:8000")));
        assert!(!default.allows(Some("example.org")));
        assert!(!default.allows(None));
        assert!(!default.allows(Some("")));
        assert_eq!(AllowedHosts::parse(Some(" , ")), default);

        let any = AllowedHosts::parse(Some("foo, *"));
        assert!(any.allows(Some("whatever:1")));
        assert!(!any.allows(None));

        let list = AllowedHosts::parse(Some("mrs.example.org, .staging.org"));
        assert!(list.allows(Some("mrs.example.org")));
        assert!(list.allows(Some("mrs.example.org.:443")));
        assert!(list.allows(Some("staging.org")));
        assert!(list.allows(Some("pr-1.staging.org")));
        assert!(!list.allows(Some("xstaging.org")));
        assert!(!list.allows(Some("localhost")));
        assert!(!list.allows(Some("evil.mrs.example.org")));
    }

    #[test]
    fn decodes_base64() {
        assert_eq!(base64_decode("ZGV2OmRldg=="), Some(b"dev:dev".to_vec()));
        assert_eq!(base64_decode("ZGV2OmRldg"), Some(b"dev:dev".to_vec()));
        assert_eq!(base64_decode(""), Some(Vec::new()));
        assert_eq!(base64_decode("YQ=="), Some(b"a".to_vec()));
        assert_eq!(base64_decode("YWI="), Some(b"ab".to_vec()));
        assert_eq!(base64_decode("+/+/"), Some(vec![0xfb, 0xff, 0xbf]));
        assert_eq!(base64_decode("Z"), None);
        assert_eq!(base64_decode("ZG!2"), None);
    }

    #[test]
    fn parses_basic_auth() {
        assert_eq!(
            parse_basic_auth("Basic ZGV2OmRldg=="),
            Some(("dev".to_owned(), "dev".to_owned()))
        );
        assert_eq!(
            parse_basic_auth("basic  dXNlcjpwYTpzcw=="),
            Some(("user".to_owned(), "pa:ss".to_owned()))
        );
        assert_eq!(parse_basic_auth("Bearer ZGV2OmRldg=="), None);
        assert_eq!(parse_basic_auth("Basic ZGV2"), None); // no colon
        assert_eq!(parse_basic_auth("Basic"), None);
        assert_eq!(parse_basic_auth("Basic %%%"), None);
    }

    #[test]
    fn refuses_to_start_without_secret_key() {
        assert!(config(&[]).is_err());
        assert!(config(&[("SECRET_KEY", "")]).is_err());
        let c = config(&[("SECRET_KEY", "x")]).expect("valid");
        assert_eq!(c.port, 8000);
        assert_eq!(c.db_wait, Duration::from_secs(60));
        assert!(c.basic_auth);
        assert_eq!(c.git_commit, "unknown");
        assert!(config(&[("SECRET_KEY", "x"), ("PORT", "http")]).is_err());
        assert!(config(&[("SECRET_KEY", "x"), ("DB_WAIT", "-1")]).is_err());
    }

    #[test]
    fn answers_requests() {
        let c = config(&[("SECRET_KEY", "x"), ("GIT_COMMIT", "abc123")]).expect("valid");
        let up = || Ok(());
        let down = || Err("connection refused".to_owned());
        let auth = ("Authorization", "Basic ZGV2OmRldg==");

        let r = handle(
            &c,
            &request("GET", "/?test=1", &[("Host", "localhost"), auth]),
            &up,
        );
        assert_eq!(r.status, 200);
        let r = handle(
            &c,
            &request("GET", "/", &[("Host", "localhost"), auth]),
            &down,
        );
        assert_eq!(r.status, 503);
        let r = handle(&c, &request("GET", "/", &[("Host", "evil"), auth]), &up);
        assert_eq!(r.status, 403);
        let r = handle(&c, &request("GET", "/", &[("Host", "localhost")]), &up);
        assert_eq!(r.status, 401);
        assert!(r.headers.iter().any(|(n, _)| n == "WWW-Authenticate"));
        let wrong = ("Authorization", "Basic ZGV2Ondyb25n");
        let r = handle(
            &c,
            &request("GET", "/", &[("Host", "localhost"), wrong]),
            &up,
        );
        assert_eq!(r.status, 401);
        let r = handle(
            &c,
            &request("GET", "/version", &[("Host", "localhost"), auth]),
            &down,
        );
        assert_eq!((r.status, r.body.as_slice()), (200, &b"abc123\n"[..]));
        let r = handle(
            &c,
            &request("POST", "/", &[("Host", "localhost"), auth]),
            &up,
        );
        assert_eq!(r.status, 405);
        let r = handle(
            &c,
            &request("GET", "/nope", &[("Host", "localhost"), auth]),
            &up,
        );
        assert_eq!(r.status, 404);

        let open = config(&[("SECRET_KEY", "x"), ("BASICAUTH_DISABLE", "1")]).expect("valid");
        let r = handle(
            &open,
            &request("HEAD", "/", &[("Host", "127.0.0.1:18000")]),
            &up,
        );
        assert_eq!(r.status, 200);
    }
}
