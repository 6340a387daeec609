//! `mrs-standin`: stand-ins for the images MRS's overlays name, in one
//! static multi-call binary that `scripts/build-images.sh` copies into
//! `FROM scratch` images (no registry is needed to build them).
//!
//! Dispatch, on the basename of `argv[0]` first:
//! - `mrs ARGS...` and `djcli ARGS...`: the management commands
//!   ([`manage`]), as the real MRS image has them in `PATH`;
//! - otherwise on the first argument: `app` (the MRS Django stand-in,
//!   [`app`]), `maildev` (an SMTP sink with a web API, [`maildev`]),
//!   `mrs ...` or `djcli ...` (same as above).

mod app;
mod db;
mod http;
mod maildev;
mod manage;
mod resolve;
mod signals;
mod smtp;

use std::path::Path;
use std::process::ExitCode;

/// Usage text printed for `--help` and on an unknown command.
const USAGE: &str = "\
usage: mrs-standin app                 serve the MRS stand-in on :8000 (env PORT)
       mrs-standin maildev             SMTP sink on :25 (SMTP_PORT), web API on :80 (WEB_PORT)
       mrs-standin mrs COMMAND ...     management commands (also as `mrs COMMAND`)
       mrs-standin djcli COMMAND ...   management commands (also as `djcli COMMAND`)
commands: sendtestemail [TO] | dbcheck | migrate | loaddata NAME... |
          createsuperuser USER EMAIL PASSWORD";

/// What to run, decided from `argv[0]` and the arguments.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    /// The MRS app server.
    App,
    /// The SMTP sink.
    Maildev,
    /// A management command, under the program name it was called as.
    Manage(String, Vec<String>),
    /// Print the usage and exit 0.
    Help,
    /// Print the usage and exit 2, with this complaint.
    Unknown(String),
}

/// Decides what to run from the whole argument vector (including `argv[0]`).
fn dispatch(args: &[String]) -> Command {
    let prog = args
        .first()
        .map(|a| {
            Path::new(a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .unwrap_or_default();
    if prog == "mrs" || prog == "djcli" {
        return Command::Manage(prog, args.get(1..).unwrap_or_default().to_vec());
    }
    match args.get(1).map(String::as_str) {
        Some("app") => Command::App,
        Some("maildev") => Command::Maildev,
        Some(name @ ("mrs" | "djcli")) => {
            Command::Manage(name.to_owned(), args.get(2..).unwrap_or_default().to_vec())
        }
        Some("-h" | "--help" | "help") => Command::Help,
        Some(other) => Command::Unknown(format!("unknown command `{other}`")),
        None => Command::Unknown("missing command".to_owned()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    match dispatch(&args) {
        Command::App => app::run(),
        Command::Maildev => maildev::run(),
        Command::Manage(prog, rest) => manage::run(&prog, &rest),
        Command::Help => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Command::Unknown(why) => {
            eprintln!("mrs-standin: {why}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn dispatches_on_argv0_basename() {
        assert_eq!(
            dispatch(&v(&["/usr/local/bin/mrs", "sendtestemail", "a@b"])),
            Command::Manage("mrs".into(), v(&["sendtestemail", "a@b"]))
        );
        assert_eq!(
            dispatch(&v(&["djcli", "dbcheck"])),
            Command::Manage("djcli".into(), v(&["dbcheck"]))
        );
    }

    #[test]
    fn dispatches_on_first_argument() {
        assert_eq!(dispatch(&v(&["/x/mrs-standin", "app"])), Command::App);
        assert_eq!(dispatch(&v(&["mrs-standin", "maildev"])), Command::Maildev);
        assert_eq!(
            dispatch(&v(&["mrs-standin", "djcli", "loaddata", "a", "b"])),
            Command::Manage("djcli".into(), v(&["loaddata", "a", "b"]))
        );
        assert_eq!(dispatch(&v(&["mrs-standin", "--help"])), Command::Help);
        assert!(matches!(
            dispatch(&v(&["mrs-standin", "nope"])),
            Command::Unknown(_)
        ));
        assert!(matches!(
            dispatch(&v(&["mrs-standin"])),
            Command::Unknown(_)
        ));
        assert!(matches!(dispatch(&[]), Command::Unknown(_)));
    }
}
