//! Cooperative cancellation: SIGINT or SIGTERM asks the deploy to stop.
//!
//! The apply loop checks [`Cancel::check`] between engine calls, so a call
//! that changes state always completes (its effect is known) before the
//! rollback starts; waits that only read (health, dependencies) end at once.
//! A second signal aborts the process: the next `up` recovers from the
//! journal labels.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

use super::Error;

/// Shared between the signal listener, the lock's lease keeper and the apply loop.
#[derive(Clone, Default)]
pub struct Cancel {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    requested: AtomicBool,
    reason: std::sync::Mutex<String>,
    notify: Notify,
}

impl Cancel {
    /// Asks the deploy to stop, for `reason`.
    pub fn request(&self, reason: &str) {
        if let Ok(mut r) = self.inner.reason.lock()
            && r.is_empty()
        {
            reason.clone_into(&mut r);
        }
        self.inner.requested.store(true, Ordering::SeqCst);
        self.inner.notify.notify_waiters();
    }

    /// Whether a stop was asked.
    pub fn is_requested(&self) -> bool {
        self.inner.requested.load(Ordering::SeqCst)
    }

    /// `Err(Interrupted)` once a stop was asked.
    pub fn check(&self) -> Result<(), Error> {
        if self.is_requested() {
            let reason = self
                .inner
                .reason
                .lock()
                .map(|r| r.clone())
                .unwrap_or_default();
            return Err(Error::Interrupted(reason));
        }
        Ok(())
    }

    /// Resolves once a stop was asked.
    pub async fn requested(&self) {
        loop {
            let notified = self.inner.notify.notified();
            if self.is_requested() {
                return;
            }
            notified.await;
        }
    }

    /// Runs a read-only wait, ending it early with `Interrupted` when a stop is asked.
    pub async fn or_interrupted<T>(
        &self,
        f: impl std::future::Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        tokio::select! {
            r = f => r,
            () = self.requested() => Err(self.check().err().unwrap_or(Error::Interrupted(String::new()))),
        }
    }

    /// Listens for SIGINT and SIGTERM: the first asks for a stop, the second
    /// runs `abort` (which should end the process).
    pub fn listen(&self, abort: fn(&str) -> !) {
        use tokio::signal::unix::{SignalKind, signal};
        let me = self.clone();
        let (Ok(mut int), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            return;
        };
        tokio::spawn(async move {
            loop {
                let name = tokio::select! {
                    _ = int.recv() => "SIGINT",
                    _ = term.recv() => "SIGTERM",
                };
                if me.is_requested() {
                    abort(name);
                }
                me.request(&format!("interrupted by {name}"));
            }
        });
    }
}
