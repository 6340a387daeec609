//! End-to-end tests against the real Docker Engine: the environment binaries
//! deploy the stand-in images (scripts/build-images.sh) for real, and a
//! fault-injection proxy (`proxy.rs`) holds or fails chosen engine calls
//! while the tests kill or signal the binary.
//!
//! A test that needs the engine and cannot have it (no engine, images
//! missing) is reported as *ignored*, never as passed; with
//! `MRS_E2E_REQUIRED=1` (CI) it fails instead. Tests that share host port
//! 8000 and the `testmrs` project run one at a time; the others alongside.

mod data;
mod deploy;
mod faults;
mod inputs;
mod lock;
mod proxy;
mod secrets;
mod sshd;
mod support;

use std::sync::Mutex;

use libtest_mimic::{Arguments, Failed, Trial};

/// What a test needs, which decides what it waits for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// No engine: runs anywhere, alongside everything.
    Nothing,
    /// The engine, and nothing another test uses: alongside everything.
    Engine,
    /// The engine, port 8000 and the `testmrs` project: one at a time.
    Local,
    /// The engine and the `mrs-e2e-deps` project: one at a time, alongside the `Local` ones.
    Deps,
}

/// The tests: name, what they need, the function.
pub type Case = (&'static str, Needs, fn());

static LOCAL_PROJECT: Mutex<()> = Mutex::new(());
static DEPS_PROJECT: Mutex<()> = Mutex::new(());

fn engine_problem() -> Option<String> {
    let answers = std::process::Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !answers {
        return Some("no Docker Engine answers".to_owned());
    }
    support::IMAGES
        .iter()
        .find(|i| !support::docker(&["image", "inspect", i]).status.success())
        .map(|i| format!("image {i} is missing; run `bash scripts/build-images.sh`"))
}

fn main() {
    let args = Arguments::from_args();
    let cases: Vec<Case> = [
        deploy::cases(),
        faults::cases(),
        lock::cases(),
        data::cases(),
        inputs::cases(),
        secrets::cases(),
        sshd::cases(),
    ]
    .concat();
    let required = std::env::var_os("MRS_E2E_REQUIRED").is_some();
    let problem = engine_problem();
    if let Some(p) = &problem {
        eprintln!(
            "\n!!!!!!!! end-to-end tests that need the engine are {}: {p} !!!!!!!!\n",
            if required {
                "FAILED (MRS_E2E_REQUIRED is set)"
            } else {
                "IGNORED (set MRS_E2E_REQUIRED=1 to make this a failure)"
            }
        );
    }
    let trials = cases
        .into_iter()
        .map(|(name, needs, f)| {
            let problem = problem.clone().filter(|_| needs != Needs::Nothing);
            let ignored = problem.is_some() && !required;
            Trial::test(name, move || {
                if let Some(p) = problem {
                    return Err(Failed::from(format!("end-to-end test cannot run: {p}")));
                }
                let project = match needs {
                    Needs::Local => Some(&LOCAL_PROJECT),
                    Needs::Deps => Some(&DEPS_PROJECT),
                    Needs::Nothing | Needs::Engine => None,
                };
                let _serial =
                    project.map(|m| m.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
                f();
                Ok(())
            })
            .with_ignored_flag(ignored)
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    if problem.is_none() && !args.list {
        support::leave_the_engine_clean();
        sshd::remove_all();
    }
    inputs::remove_env_files();
    conclusion.exit();
}
