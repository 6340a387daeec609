//! Run-time inputs: the env file (docker's `--env-file` syntax), blank
//! secrets, bounded numbers, the engine's argument size limit. Errors name
//! the file, line and variable, never the content.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::support::*;

/// The tests of this file.
pub fn cases() -> Vec<crate::Case> {
    use crate::Needs::*;
    vec![
        (
            "env_file_errors_name_the_line_never_the_content",
            Nothing,
            env_file_errors_name_the_line_never_the_content,
        ),
        (
            "env_file_values_are_taken_verbatim",
            Nothing,
            env_file_values_are_taken_verbatim,
        ),
        (
            "unknown_names_in_the_env_file_are_warned",
            Nothing,
            unknown_names_in_the_env_file_are_warned,
        ),
        (
            "a_blank_secret_is_refused",
            Nothing,
            a_blank_secret_is_refused,
        ),
        (
            "out_of_range_numbers_are_refused",
            Local,
            out_of_range_numbers_are_refused,
        ),
        (
            "a_value_over_the_argument_limit_is_refused_before_any_change",
            Local,
            a_value_over_the_argument_limit_is_refused_before_any_change,
        ),
    ]
}

fn env_files_dir() -> PathBuf {
    std::env::temp_dir().join(format!("mrs-e2e-inputs-{}", std::process::id()))
}

/// Removes the env files the tests wrote.
pub fn remove_env_files() {
    let _ = std::fs::remove_dir_all(env_files_dir());
}

/// A 0600 env file with `text`.
fn env_file(name: &str, text: &str) -> PathBuf {
    let dir = env_files_dir();
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    path
}

const E2E_INPUTS: [(&str, &str); 2] = [("IMAGE", "betagouv/mrs:master"), ("DJANGO_MODE", "app")];

fn config_with(file: &Path, env: &[(&str, &str)]) -> std::process::Output {
    let file = file.display().to_string();
    run(
        E2E_LOCAL,
        &["--env-file", &file, "config", "--format", "json"],
        env,
    )
}

pub fn env_file_errors_name_the_line_never_the_content() {
    for (text, line) in [
        ("ALLOWED_HOSTS=localhost\n=hunter2-fragment\n", 2),
        ("ALLOWED_HOSTS=localhost\n# ok\nhunter2 fragment\n", 3),
        ("ALLOWED_HOSTS=localhost\nhunter2 fragment=x\n", 2),
    ] {
        let file = env_file("bad", text);
        let o = config_with(&file, &E2E_INPUTS);
        let err = stderr(&o);
        assert_eq!(code(&o), 2, "{err}");
        assert!(
            err.contains(&format!("{}:{line}", file.display())),
            "names file:line: {err}"
        );
        assert!(
            !err.contains("hunter2"),
            "the content is never shown: {err}"
        );
    }
}

pub fn env_file_values_are_taken_verbatim() {
    let file = env_file("verbatim", "ALLOWED_HOSTS=$HOME,'q' \"d\"\n");
    let o = config_with(&file, &E2E_INPUTS);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains(r#""ALLOWED_HOSTS": "$$HOME,'q' \"d\"""#),
        "no expansion, no quote processing: {out}"
    );
}

pub fn unknown_names_in_the_env_file_are_warned() {
    let file = env_file("typo", "ALLOWED_HOSTS=localhost\nSECRET_KEX=abc\n");
    let o = config_with(&file, &E2E_INPUTS);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("SECRET_KEX"), "{err}");
    assert!(err.contains("SECRET_KEY"), "with a suggestion: {err}");
    assert!(!err.contains("abc"), "{err}");
}

pub fn a_blank_secret_is_refused() {
    let o = run(LOCAL, &["config"], &[("SECRET_KEY", "  \t ")]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("SECRET_KEY"), "{}", stderr(&o));
}

pub fn out_of_range_numbers_are_refused() {
    local_up();
    let before = project_containers("testmrs");
    for flag in ["--timeout", "--health-timeout", "--wait-lock"] {
        let o = run(LOCAL, &["up", flag, "18446744073709551615"], &[]);
        assert_eq!(code(&o), 2, "{flag}: {}", stderr(&o));
        assert!(stderr(&o).contains(flag), "{}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    }
    assert_eq!(project_containers("testmrs"), before);
    assert_local_serves_cleanly();
}

pub fn a_value_over_the_argument_limit_is_refused_before_any_change() {
    local_up();
    let before = project_containers("testmrs");
    // Too big to pass through this process's own environment: an env file.
    let text = format!("ALLOWED_HOSTS=localhost,{}\n", "h".repeat(200 * 1024));
    let file = env_file("huge", &text).display().to_string();
    let o = run(E2E_LOCAL, &["--env-file", &file, "up"], &E2E_INPUTS);
    assert_eq!(code(&o), 2, "{}", &stderr(&o)[..stderr(&o).len().min(2000)]);
    let err = stderr(&o);
    assert!(
        err.contains("ALLOWED_HOSTS"),
        "names the variable: {}",
        &err[..err.len().min(2000)]
    );
    assert!(!err.contains("hhhhhhhh"), "not the value");
    assert_eq!(project_containers("testmrs"), before, "nothing changed");
    assert_local_serves_cleanly();
}
