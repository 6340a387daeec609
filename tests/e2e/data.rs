//! Data and resources: containers stopped and their network pruned by hand,
//! anonymous volumes carried over a recreate and removed by `down`, the
//! deploy history kept by `down --volumes`.

use crate::support::*;

/// The tests of this file.
pub fn cases() -> Vec<crate::Case> {
    use crate::Needs::*;
    vec![
        (
            "stopped_containers_and_a_pruned_network_are_recreated",
            Local,
            stopped_containers_and_a_pruned_network_are_recreated,
        ),
        (
            "anonymous_volumes_survive_a_recreate_and_down_removes_them",
            Deps,
            anonymous_volumes_survive_a_recreate_and_down_removes_them,
        ),
    ]
}

pub fn stopped_containers_and_a_pruned_network_are_recreated() {
    local_up();
    assert!(
        docker(&["stop", "testmrs-django-1", "testmrs-postgres-1"])
            .status
            .success()
    );
    assert!(
        docker(&["network", "rm", "testmrs_default"])
            .status
            .success()
    );
    let o = run(LOCAL, &["up"], &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_local_serves_cleanly();
    run_ok_saying(LOCAL, &["up"], &[], "nothing to do");
}

const DEPS: &str = env!("CARGO_BIN_EXE_e2e-deps");

pub fn anonymous_volumes_survive_a_recreate_and_down_removes_them() {
    let down = run(DEPS, &["down", "--force", "--volumes", "--yes"], &[]);
    assert!(down.status.success(), "{}", stderr(&down));
    let up = run(DEPS, &["up"], &[("REV", "1")]);
    assert_eq!(code(&up), 0, "{}", stderr(&up));
    let pg = "mrs-e2e-deps-postgres-1";
    let before = id_of(pg);
    let volumes = volumes_of(pg);
    assert_eq!(
        volumes.len(),
        1,
        "postgres's data is in one anonymous volume"
    );
    let write = psql_in(
        pg,
        "mrs",
        "CREATE TABLE kept (note text); INSERT INTO kept VALUES ('before the recreate');",
    );
    assert!(
        write.status.success(),
        "{}",
        String::from_utf8_lossy(&write.stderr)
    );

    let recreate = run(DEPS, &["up"], &[("REV", "2")]);
    assert_eq!(code(&recreate), 0, "{}", stderr(&recreate));
    assert_ne!(id_of(pg), before, "postgres was recreated");
    assert_eq!(volumes_of(pg), volumes, "on the same anonymous volume");
    let read = psql_in(pg, "mrs", "SELECT note FROM kept");
    assert_eq!(
        String::from_utf8_lossy(&read.stdout).trim(),
        "before the recreate"
    );

    let history = "/tmp/mrs-e2e-deps/.mrs-deploy/history.jsonl";
    let down = run(DEPS, &["down", "--force", "--volumes", "--yes"], &[]);
    assert_eq!(code(&down), 0, "{}", stderr(&down));
    for v in &volumes {
        assert!(
            !docker(&["volume", "inspect", v]).status.success(),
            "volume {v} was removed"
        );
    }
    assert!(
        std::path::Path::new(history).exists(),
        "down --volumes keeps the deploy history"
    );
    let purge = run(
        DEPS,
        &["down", "--force", "--volumes", "--yes", "--history"],
        &[],
    );
    assert_eq!(code(&purge), 0, "{}", stderr(&purge));
    assert!(
        !std::path::Path::new(history).exists(),
        "--history removes it"
    );
}
