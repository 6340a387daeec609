//! The deploy lock: a dead holder's lock is broken once its lease runs out,
//! wherever the holder ran; breaking a stale lock never removes a fresh one.

use std::time::{Duration, Instant};

use crate::proxy::{Fault, Proxy};
use crate::support::*;

/// The tests of this file.
pub fn cases() -> Vec<crate::Case> {
    use crate::Needs::*;
    vec![
        (
            "a_dead_holders_lock_on_another_host_is_broken_after_its_lease",
            Local,
            a_dead_holders_lock_on_another_host_is_broken_after_its_lease,
        ),
        (
            "breaking_a_stale_lock_never_removes_a_fresh_one",
            Local,
            breaking_a_stale_lock_never_removes_a_fresh_one,
        ),
    ]
}

/// Kills an `e2e-local up` that runs on "another host" (its own UTS
/// namespace and host name) while it holds the lock.
fn leave_a_dead_holders_lock() {
    let proxy = Proxy::start();
    let rule = proxy.on("POST", "/containers/*/stop", "", 1, Fault::HoldRequest);
    let host = proxy.docker_host();
    let script = "hostname e2e-elsewhere && exec \"$0\" up";
    let mut env: Vec<(&str, &str)> = NEW.to_vec();
    env.push(("DOCKER_HOST", &host));
    // Without --fork, unshare and sh exec: the child's pid is the binary's.
    let running = spawn("unshare", &["--uts", "sh", "-c", script, E2E_LOCAL], &env);
    assert!(rule.wait_fired(LONG), "the deploy holds the lock");
    running.signal("KILL");
    running.finish(LONG);
    drop(proxy);
    assert!(
        docker(&["inspect", "mrs-deploy-lock.testmrs"])
            .status
            .success(),
        "the dead holder's lock is left"
    );
}

pub fn a_dead_holders_lock_on_another_host_is_broken_after_its_lease() {
    local_up();
    leave_a_dead_holders_lock();
    let start = Instant::now();
    let next = run(LOCAL, &["up", "--wait-lock", "60"], &[]);
    assert_eq!(code(&next), 0, "{}", stderr(&next));
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "broken after the lease, not the whole timeout: {:?}",
        start.elapsed()
    );
    assert!(
        stderr(&next).contains("breaking the stale deploy lock"),
        "{}",
        stderr(&next)
    );
    assert_local_serves_cleanly();
}

/// Two deployers find the same stale lock; the slower one's break lands after
/// the faster one took the lock: it must not remove that fresh lock.
pub fn breaking_a_stale_lock_never_removes_a_fresh_one() {
    local_up();
    leave_a_dead_holders_lock();
    std::thread::sleep(Duration::from_secs(4));
    // B decides to break the stale lock; its removal is held.
    let proxy_b = Proxy::start();
    let b_remove = proxy_b.on("DELETE", "/containers/*", "", 1, Fault::HoldRequest);
    let host_b = proxy_b.docker_host();
    let b = spawn(LOCAL, &["up"], &[("DOCKER_HOST", &host_b)]);
    assert!(b_remove.wait_fired(LONG), "B is breaking the stale lock");
    // A breaks it too, takes the lock and deploys; its stop is held.
    let proxy_a = Proxy::start();
    let a_stop = proxy_a.on("POST", "/containers/*/stop", "", 1, Fault::HoldRequest);
    let host_a = proxy_a.docker_host();
    let mut env_a: Vec<(&str, &str)> = NEW.to_vec();
    env_a.push(("DOCKER_HOST", &host_a));
    let a = spawn(E2E_LOCAL, &["up"], &env_a);
    assert!(a_stop.wait_fired(LONG), "A holds the lock and deploys");
    let a_lock = id_of("mrs-deploy-lock.testmrs");
    b_remove.release();
    let (b_exit, b_err) = b.finish(LONG);
    let lock_now = id_of("mrs-deploy-lock.testmrs");
    a_stop.release();
    let (a_exit, a_err) = a.finish(LONG);
    assert_eq!(lock_now, a_lock, "A's lock survived B's break");
    assert_eq!(b_exit, 2, "B finds the lock held: {b_err}");
    assert!(b_err.contains("holds the lock"), "{b_err}");
    assert_eq!(a_exit, 0, "{a_err}");
    drop((proxy_a, proxy_b));
    assert_local_serves_cleanly();
    local_up();
}
