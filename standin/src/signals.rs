//! Prompt shutdown on `SIGTERM` and `SIGINT`.
//!
//! As PID 1 in a container, a process that installs no handler is not
//! killed by `SIGTERM` (the kernel ignores signals with the default action
//! for PID 1 of a namespace), so `docker stop` would wait its whole grace
//! period and then `SIGKILL`. The servers call [`exit_on_termination`] first.

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// Starts a thread that exits the process with status 0 as soon as
/// `SIGTERM` or `SIGINT` arrives, after logging one line prefixed by `name`.
pub fn exit_on_termination(name: &'static str) -> std::io::Result<()> {
    let mut signals = Signals::new([SIGTERM, SIGINT])?;
    std::thread::Builder::new()
        .name("signals".to_owned())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let what = if signal == SIGTERM {
                    "SIGTERM"
                } else {
                    "SIGINT"
                };
                println!("{name}: received {what}, exiting");
                std::process::exit(0);
            }
        })?;
    Ok(())
}
