//! What the end-to-end tests share: the binaries, the docker CLI, the
//! `testmrs` project's helpers.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const LOCAL: &str = env!("CARGO_BIN_EXE_local");
pub const E2E_LOCAL: &str = env!("CARGO_BIN_EXE_e2e-local");
pub const E2E_REVIEW: &str = env!("CARGO_BIN_EXE_e2e-review");
pub const SECRET: &str = "e2e-s3cret-value";
pub const IMAGES: &[&str] = &[
    "betagouv/mrs:master",
    "postgres:10",
    "djfarrelly/maildev:latest",
    "mrs-deploy/traefik:3",
    crate::sshd::IMAGE,
];

pub fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .output()
        .expect("run the docker CLI")
}

pub fn docker_out(args: &[&str]) -> String {
    String::from_utf8_lossy(&docker(args).stdout)
        .trim()
        .to_owned()
}

/// Runs an environment binary with SECRET_KEY set plus `env`.
pub fn run(bin: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(bin);
    c.args(args)
        .env("SECRET_KEY", SECRET)
        .env_remove("DOCKER_HOST");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run the environment binary");
    eprintln!(
        "$ {} {}\n{}{}",
        Path::new(bin)
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or(bin),
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

pub fn e2e_local_env<'a>(image: &'a str, mode: &'a str, hosts: &'a str) -> [(&'a str, &'a str); 3] {
    [
        ("IMAGE", image),
        ("DJANGO_MODE", mode),
        ("ALLOWED_HOSTS", hosts),
    ]
}

/// Removes the local environment entirely (containers, networks, data).
pub fn reset_local() {
    let o = run(LOCAL, &["down", "--force", "--volumes", "--yes"], &[]);
    assert!(o.status.success(), "down failed: {}", stderr(&o));
    let _ = std::fs::remove_dir_all("/tmp/testmrs");
    assert!(project_containers("testmrs").is_empty());
}

pub fn local_up() {
    let o = run(LOCAL, &["up"], &[]);
    assert_eq!(code(&o), 0, "local up failed: {}", stderr(&o));
}

/// `name -> id` of a project's containers.
pub fn project_containers(project: &str) -> Vec<(String, String)> {
    let out = docker_out(&[
        "ps",
        "-a",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "--format",
        "{{.Names}} {{.ID}}",
    ]);
    let mut v: Vec<(String, String)> = out
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(n, i)| (n.to_owned(), i.to_owned()))
        .collect();
    v.sort();
    v
}

pub fn id_of(name: &str) -> String {
    docker_out(&["inspect", "--format", "{{.Id}}", name])
}

pub fn state_of(name: &str) -> String {
    docker_out(&["inspect", "--format", "{{.State.Status}}", name])
}

/// GET / on localhost:8000 with `Host: localhost`; the status code.
pub fn http_status(port: u16, host: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET / HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic ZGV2OmRldg==\r\nConnection: close\r\n\r\n").ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    buf.split_whitespace().nth(1)?.parse().ok()
}

pub fn psql(sql: &str) -> Output {
    psql_in("testmrs-postgres-1", "mrs", sql)
}

/// Runs `sql` with psql (unaligned, tuples only) in `container`, on database `db`.
pub fn psql_in(container: &str, db: &str, sql: &str) -> Output {
    docker(&[
        "exec", container, "psql", "-U", "django", "-d", db, "-tAc", sql,
    ])
}

/// Creates (never starts) a container labelled as the `testmrs` project's
/// container of `service`, as someone else might have.
pub fn create_labelled(name: &str, service: &str) -> Output {
    let _ = docker(&["rm", "-f", name]);
    let labels = [
        "com.docker.compose.project=testmrs".to_owned(),
        format!("com.docker.compose.service={service}"),
        "com.docker.compose.container-number=1".to_owned(),
        "com.docker.compose.oneoff=False".to_owned(),
        "com.docker.compose.config-hash=0".to_owned(),
    ];
    let mut args = vec!["create", "--name", name];
    for l in &labels {
        args.extend(["--label", l.as_str()]);
    }
    args.push("betagouv/mrs:master");
    docker(&args)
}

/// Names of the volumes mounted by a container.
pub fn volumes_of(container: &str) -> Vec<String> {
    docker_out(&[
        "inspect",
        "--format",
        "{{range .Mounts}}{{if eq .Type \"volume\"}}{{println .Name}}{{end}}{{end}}",
        container,
    ])
    .lines()
    .map(str::to_owned)
    .collect()
}

/// A binary started in the background, its stderr collected line by line.
pub struct Running {
    pub child: Child,
    lines: std::sync::mpsc::Receiver<String>,
    pub seen: Vec<String>,
}

/// Starts an environment binary (SECRET_KEY set) with `env`, in the background.
pub fn spawn(bin: &str, args: &[&str], env: &[(&str, &str)]) -> Running {
    let mut c = Command::new(bin);
    c.args(args)
        .env("SECRET_KEY", SECRET)
        .env_remove("DOCKER_HOST")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().expect("spawn the environment binary");
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead as _;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            eprintln!("  | {line}");
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Running {
        child,
        lines,
        seen: Vec::new(),
    }
}

impl Running {
    /// Waits for a stderr line containing `text`.
    pub fn wait_for(&mut self, text: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        if self.seen.iter().any(|l| l.contains(text)) {
            return true;
        }
        while let Ok(line) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            let hit = line.contains(text);
            self.seen.push(line);
            if hit {
                return true;
            }
        }
        false
    }

    /// Sends a signal (`KILL`, `TERM`, `INT`).
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits for the exit (at most `timeout`); its code (-1 when killed) and all of stderr.
    pub fn finish(mut self, timeout: Duration) -> (i32, String) {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the binary did not exit within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
            self.seen.push(line);
        }
        (status.code().unwrap_or(-1), self.seen.join("\n"))
    }
}

/// Every container on the engine whose name or labels say mrs-deploy made it
/// for `project` (service containers, set-aside and temporary ones, locks).
pub fn leftovers(project: &str) -> Vec<String> {
    let mut names: Vec<String> = docker_out(&["ps", "-a", "--format", "{{.Names}}"])
        .lines()
        .filter(|n| {
            n.starts_with(project)
                || n.contains(&format!(".{project}"))
                || n.contains(&format!("_{project}"))
        })
        .map(str::to_owned)
        .collect();
    names.sort();
    names
}

/// Asserts the `testmrs` project is exactly django and postgres, django serves, and no lock is held.
pub fn assert_local_serves_cleanly() {
    assert_eq!(
        leftovers("testmrs"),
        ["testmrs-django-1", "testmrs-postgres-1"],
        "only the two service containers are left"
    );
    assert_eq!(state_of("testmrs-django-1"), "running");
    assert_eq!(http_status(8000, "localhost"), Some(200), "the site serves");
}

/// The last record of the deploy history of `local`.
pub fn last_history() -> serde_json::Value {
    let history = run(LOCAL, &["history", "--format", "json"], &[]);
    let history: Vec<serde_json::Value> =
        serde_json::from_slice(&history.stdout).expect("history is JSON");
    history.last().cloned().unwrap_or_default()
}

/// Runs a binary that must succeed and say `text` on stderr; its output.
pub fn run_ok_saying(bin: &str, args: &[&str], env: &[(&str, &str)], text: &str) -> Output {
    let o = run(bin, args, env);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains(text),
        "expected `{text}`: {}",
        stderr(&o)
    );
    o
}

/// `e2e-local`'s inputs for a new version of `local`: django's entrypoint
/// written out (a recreate of django only). A killed holder's lease runs
/// out quickly.
pub const NEW: [(&str, &str); 4] = [
    ("IMAGE", "betagouv/mrs:master"),
    ("DJANGO_MODE", "app"),
    ("ALLOWED_HOSTS", "127.0.0.1,localhost"),
    ("MRS_LOCK_LEASE_SECS", "3"),
];

/// How long a test waits for a binary to reach a held call or to exit.
pub const LONG: Duration = Duration::from_secs(120);

/// Removes what the tests deployed: the `testmrs` project, its data and history.
pub fn leave_the_engine_clean() {
    let o = run(
        LOCAL,
        &["down", "--force", "--volumes", "--yes", "--history"],
        &[],
    );
    if !o.status.success() {
        eprintln!(
            "warning: could not remove the testmrs project: {}",
            stderr(&o)
        );
    }
    let _ = std::fs::remove_dir_all("/tmp/testmrs");
}
