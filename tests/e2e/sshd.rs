//! A real OpenSSH server on loopback: the remote host of every test that
//! ships, deploys, mirrors or copies over SSH, or adds users.
//!
//! One container of the `mrs-deploy/sshd:test` image (scripts/build-images.sh)
//! is started on first use and shared by the whole run; `remove_all` (called
//! when the run ends) removes it. Root logs in with a key made for the run;
//! the server's host key is pinned in a known_hosts file, so the client
//! checks it as it would a real server's (`StrictHostKeyChecking=yes`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::support::{docker, docker_out};

/// The image.
pub const IMAGE: &str = "mrs-deploy/sshd:test";
/// The label that marks the run's sshd containers, for `remove_all`.
const LABEL: &str = "io.mrs-deploy.e2e=sshd";

/// The shared server.
pub struct Sshd {
    /// Its container's name.
    pub container: String,
    /// The host port its port 22 is published on (127.0.0.1).
    pub port: u16,
    /// A private key root accepts (mode 0600).
    pub key: PathBuf,
    /// A known_hosts file pinning the server's host key for `[127.0.0.1]:port`.
    pub known_hosts: PathBuf,
}

impl Sshd {
    /// The server, started on first use.
    pub fn shared() -> &'static Sshd {
        static SHARED: OnceLock<Sshd> = OnceLock::new();
        SHARED.get_or_init(Sshd::start)
    }

    fn start() -> Sshd {
        let dir = std::env::temp_dir().join(format!("mrs-e2e-sshd-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the sshd fixture folder");
        let key = dir.join("id_ed25519");
        let made = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "mrs-e2e", "-f"])
            .arg(&key)
            .output()
            .expect("ssh-keygen is installed (openssh-client)");
        assert!(made.status.success(), "ssh-keygen: {made:?}");
        let public = std::fs::read_to_string(key.with_extension("pub")).expect("public key");
        let container = format!("mrs-e2e-sshd-{}", std::process::id());
        let _ = docker(&["rm", "-f", &container]);
        let started = docker(&[
            "run",
            "-d",
            "--name",
            &container,
            "--label",
            LABEL,
            "-e",
            &format!("SSH_AUTHORIZED_KEYS={}", public.trim()),
            "-p",
            "127.0.0.1::22",
            IMAGE,
        ]);
        assert!(
            started.status.success(),
            "start {IMAGE}: {}",
            String::from_utf8_lossy(&started.stderr)
        );
        let port: u16 = docker_out(&["port", &container, "22/tcp"])
            .lines()
            .next()
            .and_then(|l| l.rsplit(':').next())
            .and_then(|p| p.parse().ok())
            .expect("the published ssh port");
        let known_hosts = dir.join("known_hosts");
        let sshd = Sshd {
            container,
            port,
            key,
            known_hosts,
        };
        sshd.pin_host_key();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let o = sshd.ssh("root", "true");
            if o.status.success() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "sshd did not accept the key in time: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        sshd
    }

    /// Writes the server's host key (made when the container started) to `known_hosts`.
    fn pin_host_key(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let key = loop {
            let k = self.exec(&["cat", "/etc/ssh/ssh_host_ed25519_key.pub"]);
            if k.status.success() {
                break String::from_utf8_lossy(&k.stdout).into_owned();
            }
            assert!(
                Instant::now() < deadline,
                "no host key in {}",
                self.container
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        let mut fields = key.split_whitespace();
        let (kind, body) = (fields.next(), fields.next());
        let (Some(kind), Some(body)) = (kind, body) else {
            panic!("unreadable host key: {key}");
        };
        std::fs::write(
            &self.known_hosts,
            format!("[127.0.0.1]:{} {kind} {body}\n", self.port),
        )
        .expect("write known_hosts");
    }

    /// `user@127.0.0.1`.
    pub fn destination(&self, user: &str) -> String {
        format!("{user}@127.0.0.1")
    }

    /// The OpenSSH client options that reach this server with the run's key
    /// and its pinned host key (for `ssh`, `scp -P`-less uses, lftp's connect program).
    pub fn client_options(&self) -> Vec<String> {
        vec![
            "-i".into(),
            path(&self.key),
            "-p".into(),
            self.port.to_string(),
            "-o".into(),
            format!("UserKnownHostsFile={}", path(&self.known_hosts)),
            "-o".into(),
            "StrictHostKeyChecking=yes".into(),
            "-o".into(),
            "BatchMode=yes".into(),
            "-o".into(),
            "IdentitiesOnly=yes".into(),
            "-o".into(),
            "LogLevel=ERROR".into(),
        ]
    }

    /// Runs `command` on the server as `user` through the real ssh client.
    pub fn ssh(&self, user: &str, command: &str) -> Output {
        Command::new("ssh")
            .args(self.client_options())
            .arg(self.destination(user))
            .arg(command)
            .output()
            .expect("run ssh")
    }

    /// Runs a command in the server's container as root, without SSH.
    pub fn exec(&self, args: &[&str]) -> Output {
        let mut all = vec!["exec", self.container.as_str()];
        all.extend_from_slice(args);
        docker(&all)
    }
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// Removes every sshd container of the tests and the run's key folder.
pub fn remove_all() {
    let ids = docker_out(&["ps", "-aq", "--filter", &format!("label={LABEL}")]);
    for id in ids.lines().filter(|l| !l.is_empty()) {
        let _ = docker(&["rm", "-f", "-v", id]);
    }
    let _ = std::fs::remove_dir_all(
        std::env::temp_dir().join(format!("mrs-e2e-sshd-{}", std::process::id())),
    );
}

/// The fixture itself: the pinned host key is checked, the key logs in as
/// root, sudo works, sftp works, and a wrong host key is refused.
fn the_ssh_host_is_real_and_pinned() {
    let s = Sshd::shared();
    let o = s.ssh("root", "id -u && sudo -n true && minisign -v");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("0\n"));
    let sftp = Command::new("sftp")
        .args(["-b", "-", "-i"])
        .arg(&s.key)
        .args(["-P", &s.port.to_string()])
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", path(&s.known_hosts)))
        .args(["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes"])
        .arg(s.destination("root"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write as _;
            c.stdin.take().map(|mut i| i.write_all(b"ls /etc/ssh\n"));
            c.wait_with_output()
        })
        .expect("run sftp");
    assert!(
        sftp.status.success(),
        "sftp: {}",
        String::from_utf8_lossy(&sftp.stderr)
    );
    // Another host key for the same address: the client refuses to connect.
    let wrong = s.known_hosts.with_file_name("known_hosts.wrong");
    let other = std::fs::read_to_string(s.key.with_extension("pub")).expect("public key");
    let mut fields = other.split_whitespace();
    std::fs::write(
        &wrong,
        format!(
            "[127.0.0.1]:{} {} {}\n",
            s.port,
            fields.next().unwrap_or_default(),
            fields.next().unwrap_or_default()
        ),
    )
    .expect("write");
    let refused = Command::new("ssh")
        .args(["-i"])
        .arg(&s.key)
        .args(["-p", &s.port.to_string(), "-o"])
        .arg(format!("UserKnownHostsFile={}", path(&wrong)))
        .args(["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes"])
        .arg(s.destination("root"))
        .arg("true")
        .output()
        .expect("run ssh");
    assert!(
        !refused.status.success(),
        "a wrong host key must be refused"
    );
}

pub fn cases() -> Vec<crate::Case> {
    vec![(
        "sshd::the_ssh_host_is_real_and_pinned",
        crate::Needs::Engine,
        the_ssh_host_is_real_and_pinned,
    )]
}
