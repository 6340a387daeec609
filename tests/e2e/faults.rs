//! Interrupted deploys: a fault proxy holds one engine call of a recreate
//! (django: `local` -> `e2e-local`, whose entrypoint differs), the test
//! kills or signals the binary there, and the environment must serve the
//! intended or the previous version after at most one more `up`, with true
//! exit codes and nothing of ours left behind.

use std::time::Duration;

use crate::proxy::{Fault, Proxy};
use crate::support::*;

/// The tests of this file.
pub fn cases() -> Vec<crate::Case> {
    use crate::Needs::*;
    vec![
        (
            "kill_between_stop_and_rename_is_recovered_by_the_next_up",
            Local,
            kill_between_stop_and_rename_is_recovered_by_the_next_up,
        ),
        (
            "kill_between_the_two_renames_is_recovered_by_the_next_up",
            Local,
            kill_between_the_two_renames_is_recovered_by_the_next_up,
        ),
        (
            "sigterm_between_the_two_renames_rolls_back_and_records_it",
            Local,
            sigterm_between_the_two_renames_rolls_back_and_records_it,
        ),
        (
            "a_second_signal_aborts_and_the_next_up_recovers",
            Local,
            a_second_signal_aborts_and_the_next_up_recovers,
        ),
        (
            "sigint_during_a_stop_waits_for_it_then_rolls_back",
            Local,
            sigint_during_a_stop_waits_for_it_then_rolls_back,
        ),
        (
            "kill_during_a_failing_health_check_is_rolled_back_by_the_next_up",
            Local,
            kill_during_a_failing_health_check_is_rolled_back_by_the_next_up,
        ),
        ("a_no_op_up_checks_health", Local, a_no_op_up_checks_health),
        (
            "a_stale_previous_container_is_never_touched",
            Local,
            a_stale_previous_container_is_never_touched,
        ),
        (
            "a_failing_engine_call_rolls_back",
            Local,
            a_failing_engine_call_rolls_back,
        ),
    ]
}

/// A broken new version: django answers 403 to every host.
const BROKEN: [(&str, &str); 4] = [
    ("IMAGE", "betagouv/mrs:master"),
    ("DJANGO_MODE", "app"),
    ("ALLOWED_HOSTS", "nowhere.invalid"),
    ("MRS_LOCK_LEASE_SECS", "3"),
];

/// `e2e-local up` through the proxy.
fn up_through(proxy: &Proxy, env: &[(&str, &str)], extra: &[&str]) -> Running {
    let host = proxy.docker_host();
    let mut all: Vec<(&str, &str)> = env.to_vec();
    all.push(("DOCKER_HOST", &host));
    let mut args = vec!["up"];
    args.extend_from_slice(extra);
    spawn(E2E_LOCAL, &args, &all)
}

/// Whether `e2e-local plan` finds nothing to change (the new version serves).
fn new_version_serves() -> bool {
    let plan = run(E2E_LOCAL, &["plan", "--format", "json"], &NEW);
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap_or_default();
    plan["steps"]
        .as_array()
        .is_some_and(|s| !s.is_empty() && s.iter().all(|s| s["action"] == "keep"))
}

/// A recreate killed (`-9`) while the proxy holds the `nth` rename whose
/// target name matches `query`; then one more `up` must deploy the new version.
fn kill_at_rename_then_recover(query: &str) {
    local_up();
    let proxy = Proxy::start();
    let rule = proxy.on("POST", "/containers/*/rename", query, 1, Fault::HoldRequest);
    let running = up_through(&proxy, &NEW, &[]);
    assert!(rule.wait_fired(LONG), "the rename was reached");
    running.signal("KILL");
    let (code_killed, _) = running.finish(LONG);
    assert_eq!(code_killed, -1, "killed");
    drop(proxy);
    // Visible before anything recovers it.
    let plan = run(E2E_LOCAL, &["plan"], &NEW);
    let ps = run(LOCAL, &["ps"], &[]);
    let history = run(LOCAL, &["history"], &[]);
    for (what, out) in [("plan", &plan), ("ps", &ps), ("history", &history)] {
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("interrupted"),
            "{what} shows the interrupted deploy: {text}"
        );
    }
    let next = run(E2E_LOCAL, &["up", "--wait-lock", "60"], &NEW);
    assert_eq!(code(&next), 0, "the next up deploys: {}", stderr(&next));
    assert!(
        stderr(&next).contains("interrupted deploy"),
        "it reports what it found: {}",
        stderr(&next)
    );
    assert_local_serves_cleanly();
    assert!(new_version_serves(), "the intended version serves");
    run_ok_saying(E2E_LOCAL, &["up"], &NEW, "nothing to do");
    local_up();
}

/// Old django stopped, not yet renamed aside: the site is down when the kill lands.
pub fn kill_between_stop_and_rename_is_recovered_by_the_next_up() {
    kill_at_rename_then_recover("name=testmrs-django-1_");
}

/// Old django renamed aside, the new one not yet renamed to the final name.
pub fn kill_between_the_two_renames_is_recovered_by_the_next_up() {
    kill_at_rename_then_recover("name=testmrs-django-1&");
}

/// SIGTERM while a rename between the two is in flight: it completes, then
/// a rollback, a history record, exit 3; the previous container serves.
pub fn sigterm_between_the_two_renames_rolls_back_and_records_it() {
    local_up();
    let django = id_of("testmrs-django-1");
    let proxy = Proxy::start();
    // The first rename reached the engine (the old container is set aside); its answer is held.
    let rule = proxy.on(
        "POST",
        "/containers/*/rename",
        "name=testmrs-django-1_",
        1,
        Fault::HoldResponse,
    );
    let running = up_through(&proxy, &NEW, &[]);
    assert!(rule.wait_fired(LONG), "the first rename was answered");
    running.signal("TERM");
    std::thread::sleep(Duration::from_millis(500));
    rule.release();
    let (exit, err) = running.finish(LONG);
    assert_eq!(exit, 3, "rolled back: {err}");
    assert!(err.contains("interrupted"), "{err}");
    assert_eq!(
        id_of("testmrs-django-1"),
        django,
        "the previous django is back"
    );
    assert_local_serves_cleanly();
    assert_eq!(last_history()["outcome"], "rolled-back");
}

/// A second signal aborts at once; the next `up` finishes the job.
pub fn a_second_signal_aborts_and_the_next_up_recovers() {
    local_up();
    let proxy = Proxy::start();
    let rule = proxy.on(
        "POST",
        "/containers/*/rename",
        "name=testmrs-django-1&",
        1,
        Fault::HoldRequest,
    );
    let running = up_through(&proxy, &NEW, &[]);
    assert!(rule.wait_fired(LONG));
    running.signal("TERM");
    std::thread::sleep(Duration::from_millis(300));
    running.signal("TERM");
    let (exit, err) = running.finish(Duration::from_secs(10));
    assert_eq!(
        exit, 4,
        "aborted: the environment may be between versions: {err}"
    );
    drop(proxy);
    let next = run(E2E_LOCAL, &["up", "--wait-lock", "60"], &NEW);
    assert_eq!(code(&next), 0, "{}", stderr(&next));
    assert_local_serves_cleanly();
    assert!(new_version_serves());
    local_up();
}

/// SIGINT while the old container's stop is on its way to the engine: the
/// stop completes first, then the rollback restarts the old container, which
/// stays up.
pub fn sigint_during_a_stop_waits_for_it_then_rolls_back() {
    local_up();
    let django = id_of("testmrs-django-1");
    let proxy = Proxy::start();
    let rule = proxy.on("POST", "/containers/*/stop", "", 1, Fault::HoldRequest);
    let running = up_through(&proxy, &NEW, &[]);
    assert!(rule.wait_fired(LONG), "the stop was reached");
    running.signal("INT");
    std::thread::sleep(Duration::from_millis(500));
    rule.release();
    let (exit, err) = running.finish(LONG);
    assert_eq!(exit, 3, "rolled back: {err}");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(id_of("testmrs-django-1"), django);
    assert_local_serves_cleanly();
}

/// Killed while the health check of a broken version fails: the next `up`
/// of that version does not call it deployed.
pub fn kill_during_a_failing_health_check_is_rolled_back_by_the_next_up() {
    local_up();
    let django = id_of("testmrs-django-1");
    let mut running = spawn(E2E_LOCAL, &["up", "--health-timeout", "60"], &BROKEN);
    assert!(
        running.wait_for("health check attempt", LONG),
        "the health check was reached"
    );
    running.signal("KILL");
    running.finish(LONG);
    let next = run(
        E2E_LOCAL,
        &["up", "--wait-lock", "60", "--health-timeout", "5"],
        &BROKEN,
    );
    assert_eq!(
        code(&next),
        3,
        "not deployed, rolled back: {}",
        stderr(&next)
    );
    assert_eq!(
        id_of("testmrs-django-1"),
        django,
        "the previous django serves"
    );
    assert_local_serves_cleanly();
}

/// A no-op `up` still checks that the environment serves.
pub fn a_no_op_up_checks_health() {
    local_up();
    let rename = |from: &str, to: &str| {
        psql_in(
            "testmrs-postgres-1",
            "postgres",
            &format!("ALTER DATABASE {from} RENAME TO {to}"),
        )
    };
    let broken = rename("mrs", "mrs_gone");
    assert!(
        broken.status.success(),
        "{}",
        String::from_utf8_lossy(&broken.stderr)
    );
    let o = run(LOCAL, &["up", "--health-timeout", "3"], &[]);
    let fixed = rename("mrs_gone", "mrs");
    assert!(
        fixed.status.success(),
        "{}",
        String::from_utf8_lossy(&fixed.stderr)
    );
    assert_eq!(code(&o), 1, "the site does not serve: {}", stderr(&o));
    assert!(stderr(&o).contains("HTTP 503"), "{}", stderr(&o));
    local_up();
}

/// A container named like an old set-aside one, made by someone else: a
/// failing recreate's rollback leaves it alone and restores the real one.
pub fn a_stale_previous_container_is_never_touched() {
    local_up();
    let django = id_of("testmrs-django-1");
    let stale = create_labelled("testmrs-django-1_mrs-previous", "django");
    assert!(stale.status.success());
    let stale_id = id_of("testmrs-django-1_mrs-previous");
    let o = run(E2E_LOCAL, &["up", "--health-timeout", "5"], &BROKEN);
    let after_stale = id_of("testmrs-django-1_mrs-previous");
    let after_state = state_of("testmrs-django-1_mrs-previous");
    let _ = docker(&["rm", "-f", "testmrs-django-1_mrs-previous"]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert_eq!(after_stale, stale_id, "the stale container is untouched");
    assert_eq!(after_state, "created", "and not started");
    assert_eq!(
        id_of("testmrs-django-1"),
        django,
        "the serving django is back"
    );
    assert_local_serves_cleanly();
}

/// The engine refuses to start the replacement: rollback, exit 3, the
/// previous container serves and nothing of the deploy is left.
pub fn a_failing_engine_call_rolls_back() {
    local_up();
    let django = id_of("testmrs-django-1");
    let proxy = Proxy::start();
    let rule = proxy.on("POST", "/containers/*/start", "", 1, Fault::Fail(500));
    let running = up_through(&proxy, &NEW, &[]);
    let (exit, err) = running.finish(LONG);
    assert!(rule.wait_fired(Duration::ZERO), "the start was refused");
    assert_eq!(exit, 3, "{err}");
    assert!(err.contains("injected fault"), "{err}");
    assert_eq!(id_of("testmrs-django-1"), django);
    assert_local_serves_cleanly();
}
