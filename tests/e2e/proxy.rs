//! A fault-injection proxy in front of the engine's socket.
//!
//! The binary under test runs with `DOCKER_HOST=unix://<proxy socket>`. The
//! proxy forwards HTTP/1.1 requests to `/var/run/docker.sock`, parsing each
//! request the client sends (method, path without the `/v1.xx` prefix), and
//! applies the first matching rule: hold the request (the engine never sees
//! it until released), hold the response (the engine acts, the client keeps
//! waiting: a call in flight), or fail it with a chosen status. The test
//! learns when a rule fires, then kills or signals the binary.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

const ENGINE: &str = "/var/run/docker.sock";

/// What a rule does to the request it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The request waits in the proxy; the engine sees it only when released.
    HoldRequest,
    /// The request reaches the engine; its response waits in the proxy.
    HoldResponse,
    /// The proxy answers this status itself; the engine never sees the request.
    Fail(u16),
}

#[derive(Default)]
struct Gate {
    /// How many times the rule fired.
    fired: usize,
    /// Released: held traffic flows again.
    released: bool,
    /// Dropped: held requests are discarded, their connections closed.
    dropped: bool,
}

/// A rule, and the handle the test keeps. It fires once, on its `nth` match.
#[derive(Clone)]
pub struct Rule {
    method: String,
    pattern: String,
    /// Text the query (with `&` appended) must contain, e.g. `name=x&`.
    query: String,
    /// Matches to let through before firing.
    skip: Arc<AtomicUsize>,
    /// Fired already: a rule fires once.
    used: Arc<AtomicBool>,
    fault: Fault,
    gate: Arc<(Mutex<Gate>, Condvar)>,
}

impl Rule {
    /// Waits until the rule fired (a request is being held or failed).
    pub fn wait_fired(&self, timeout: Duration) -> bool {
        let (lock, cv) = &*self.gate;
        let deadline = Instant::now() + timeout;
        let mut g = lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while g.fired == 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            g = cv
                .wait_timeout(g, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
        true
    }

    /// Lets held traffic through.
    pub fn release(&self) {
        self.set(|g| g.released = true);
    }

    /// Discards what is held (the call never reaches the engine, or its answer never the client).
    pub fn drop_held(&self) {
        self.set(|g| g.dropped = true);
    }

    fn set(&self, f: impl FnOnce(&mut Gate)) {
        let (lock, cv) = &*self.gate;
        f(&mut lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner));
        cv.notify_all();
    }

    fn matches(&self, method: &str, path: &str, query: &str) -> bool {
        if method != self.method || !format!("{query}&").contains(&self.query) {
            return false;
        }
        let want: Vec<&str> = self.pattern.trim_matches('/').split('/').collect();
        let have: Vec<&str> = path.trim_matches('/').split('/').collect();
        want.len() == have.len() && want.iter().zip(&have).all(|(w, h)| *w == "*" || w == h)
    }

    /// Records a firing; then blocks while held. `true` when the traffic may go on.
    fn fire_and_wait(&self) -> bool {
        let (lock, cv) = &*self.gate;
        let mut g = lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        g.fired += 1;
        cv.notify_all();
        if matches!(self.fault, Fault::Fail(_)) {
            return true;
        }
        while !g.released && !g.dropped {
            g = cv
                .wait(g)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        !g.dropped
    }
}

/// A running proxy; dropping it stops accepting and drops what is held.
pub struct Proxy {
    path: PathBuf,
    rules: Arc<Mutex<Vec<Rule>>>,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    /// Listens on a fresh socket under the temp folder.
    pub fn start() -> Proxy {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "mrs-e2e-proxy-{}-{}.sock",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).expect("bind the proxy socket");
        listener.set_nonblocking(true).expect("nonblocking");
        let proxy = Proxy {
            path,
            rules: Arc::default(),
            stop: Arc::default(),
        };
        let (rules, stop) = (proxy.rules.clone(), proxy.stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let rules = rules.clone();
                        std::thread::spawn(move || {
                            let _ = serve(client, &rules);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        proxy
    }

    /// `DOCKER_HOST` for the binary under test.
    pub fn docker_host(&self) -> String {
        format!("unix://{}", self.path.display())
    }

    /// Adds a rule firing on the `nth` (from 1) request `METHOD /path?query`
    /// (`*` matches a path segment; the query, `&`-terminated, must contain
    /// `query`: `name=x&` matches `?name=x` exactly).
    pub fn on(&self, method: &str, pattern: &str, query: &str, nth: usize, fault: Fault) -> Rule {
        let rule = Rule {
            method: method.to_owned(),
            pattern: pattern.to_owned(),
            query: query.to_owned(),
            skip: Arc::new(AtomicUsize::new(nth.saturating_sub(1))),
            used: Arc::default(),
            fault,
            gate: Arc::default(),
        };
        self.rules
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(rule.clone());
        rule
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for r in self
            .rules
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
        {
            r.drop_held();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

/// One request's head.
struct Head {
    bytes: Vec<u8>,
    method: String,
    path: String,
    query: String,
    length: Option<usize>,
    chunked: bool,
    upgrade: bool,
}

fn read_head(r: &mut BufReader<UnixStream>) -> std::io::Result<Option<Head>> {
    let mut bytes = Vec::new();
    let mut first = String::new();
    let (mut length, mut chunked, mut upgrade) = (None, false, false);
    loop {
        let mut line = Vec::new();
        if r.read_until(b'\n', &mut line)? == 0 {
            return Ok(None);
        }
        bytes.extend_from_slice(&line);
        let text = String::from_utf8_lossy(&line).trim_end().to_owned();
        if first.is_empty() {
            first = text;
            continue;
        }
        if text.is_empty() {
            break;
        }
        if let Some((k, v)) = text.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            match k.as_str() {
                "content-length" => length = v.parse().ok(),
                "transfer-encoding" => chunked = v.eq_ignore_ascii_case("chunked"),
                "upgrade" => upgrade = true,
                _ => {}
            }
        }
    }
    let mut parts = first.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    // `/v1.41/containers/x/stop` -> `/containers/x/stop`
    let path = match path.strip_prefix("/v1.").and_then(|p| p.split_once('/')) {
        Some((_, rest)) => format!("/{rest}"),
        None => path.to_owned(),
    };
    Ok(Some(Head {
        bytes,
        method,
        path,
        query: query.to_owned(),
        length,
        chunked,
        upgrade,
    }))
}

fn read_body(r: &mut BufReader<UnixStream>, head: &Head) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    if head.chunked {
        loop {
            let mut size_line = Vec::new();
            r.read_until(b'\n', &mut size_line)?;
            body.extend_from_slice(&size_line);
            let size = usize::from_str_radix(
                String::from_utf8_lossy(&size_line)
                    .trim()
                    .split(';')
                    .next()
                    .unwrap_or("0"),
                16,
            )
            .unwrap_or(0);
            let mut chunk = vec![0; size + 2];
            r.read_exact(&mut chunk)?;
            body.extend_from_slice(&chunk);
            if size == 0 {
                break;
            }
        }
    } else if let Some(n) = head.length {
        body.resize(n, 0);
        r.read_exact(&mut body)?;
    }
    Ok(body)
}

/// Pauses the engine-to-client direction while a response is held.
#[derive(Default)]
struct Pause {
    rule: Mutex<Option<Rule>>,
}

fn serve(client: UnixStream, rules: &Mutex<Vec<Rule>>) -> std::io::Result<()> {
    client.set_nonblocking(false)?;
    let engine = UnixStream::connect(ENGINE)?;
    let pause = Arc::new(Pause::default());
    {
        let (mut from_engine, mut to_client) = (engine.try_clone()?, client.try_clone()?);
        let pause = pause.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 16384];
            loop {
                let n = match from_engine.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let held = pause
                    .rule
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .take();
                if let Some(rule) = held
                    && !rule.fire_and_wait()
                {
                    break;
                }
                if to_client.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            let _ = to_client.shutdown(std::net::Shutdown::Write);
        });
    }
    let mut to_engine = engine;
    let mut reader = BufReader::new(client.try_clone()?);
    let mut to_client = client;
    while let Some(head) = read_head(&mut reader)? {
        let body = read_body(&mut reader, &head)?;
        let rule = rules
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .find(|r| {
                r.matches(&head.method, &head.path, &head.query)
                    && r.skip
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |s| s.checked_sub(1))
                        .is_err()
                    && !r.used.swap(true, Ordering::SeqCst)
            })
            .cloned();
        match rule.as_ref().map(|r| r.fault) {
            Some(Fault::Fail(status)) => {
                rule.as_ref().map(Rule::fire_and_wait);
                let message = format!("{{\"message\":\"injected fault: {status}\"}}");
                write!(
                    to_client,
                    "HTTP/1.1 {status} Injected\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{message}",
                    message.len()
                )?;
                continue;
            }
            Some(Fault::HoldRequest) if !rule.as_ref().is_some_and(Rule::fire_and_wait) => {
                // Dropped: the engine never sees the request.
                return Ok(());
            }
            Some(Fault::HoldResponse) => {
                *pause
                    .rule
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = rule.clone();
            }
            Some(Fault::HoldRequest) | None => {}
        }
        to_engine.write_all(&head.bytes)?;
        to_engine.write_all(&body)?;
        if head.upgrade {
            // A hijacked stream (exec, attach): raw bytes from now on.
            to_engine.write_all(reader.buffer())?;
            let mut rest = reader.into_inner();
            std::io::copy(&mut rest, &mut to_engine)?;
            break;
        }
    }
    let _ = to_engine.shutdown(std::net::Shutdown::Write);
    Ok(())
}
