//! The deploy journal, kept on the engine.
//!
//! Docker cannot change a container's labels, so the journal lives on what
//! a deploy creates. Before its first container change, a deploy creates a
//! *journal entry*: a never-started container named
//! `mrs-deploy-journal.<project>.<deploy>` whose labels say who, since when,
//! and which stopped containers it will start. Every container the deploy
//! creates carries labels naming the deploy, its [`Role`], its final name,
//! and for a replacement the ID of the container it replaces. The deploy
//! commits by removing its journal entry, then the containers it set aside.
//!
//! From those labels alone (never from names), [`interrupted`] finds a
//! deploy that did not end: with its entry still there it never committed
//! and is rolled back; without it, it committed and is finished. Both are
//! idempotent, so a crash during recovery is recovered by the next run.

use std::collections::HashMap;

use super::apply::{self, Say};
use super::observe::{ContainerState, ObservedContainer};
use super::{Engine, Error, labels};

/// What a container is to mrs-deploy (label `io.mrs-deploy.role`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A service container: no role label (or one we do not know).
    Service,
    /// The deploy lock.
    Lock,
    /// The lock holder's lease.
    Lease,
    /// A deploy's journal entry.
    Journal,
    /// Created by a deploy to replace another container.
    Replacement,
    /// Created by a deploy for a service that had no container.
    Created,
}

impl Role {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Service => "",
            Role::Lock => "lock",
            Role::Lease => "lease",
            Role::Journal => "journal",
            Role::Replacement => "replacement",
            Role::Created => "created",
        }
    }

    /// A container's role.
    pub fn of(c: &ObservedContainer) -> Role {
        match c.label(labels::ROLE) {
            "lock" => Role::Lock,
            "lease" => Role::Lease,
            "journal" => Role::Journal,
            "replacement" => Role::Replacement,
            "created" => Role::Created,
            _ => Role::Service,
        }
    }

    /// Whether containers of this role run a service.
    pub fn is_service(self) -> bool {
        matches!(self, Role::Service | Role::Replacement | Role::Created)
    }
}

/// The name of a deploy's journal entry.
pub fn entry_name(project: &str, deploy: &str) -> String {
    format!("mrs-deploy-journal.{project}.{deploy}")
}

/// The name a replacement has until it takes the final name (and after a rollback).
pub fn new_name(final_name: &str, deploy: &str) -> String {
    format!("{final_name}_mrs-new-{deploy}")
}

/// The name a replaced container has while it is set aside.
pub fn aside_name(final_name: &str, deploy: &str) -> String {
    format!("{final_name}_mrs-old-{deploy}")
}

/// A fresh deploy ID.
pub fn new_deploy_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

/// What a deploy created, from its labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Member {
    /// A replacement of `replaces` (an ID).
    Replacement {
        /// The replacement's ID.
        id: String,
        /// Its final name.
        final_name: String,
        /// The replaced container's ID.
        replaces: String,
        /// Whether the replaced container was running.
        was_running: bool,
    },
    /// A container for a service that had none.
    Created {
        /// Its ID.
        id: String,
    },
}

/// What to do with an interrupted deploy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// It never committed (its journal entry is there): undo it.
    RollBack,
    /// It committed but did not remove the containers it set aside: finish it.
    Finish,
}

/// A deploy that did not end.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Interrupted {
    /// Deploy ID.
    pub deploy: String,
    /// Who ran it, when known.
    pub who: String,
    /// Since when (unix seconds), when known.
    pub since: u64,
    /// What recovery does.
    pub verdict: Verdict,
    /// The journal entry's container ID.
    #[serde(skip)]
    pub entry: Option<String>,
    /// What it created.
    #[serde(skip)]
    pub members: Vec<Member>,
    /// Stopped containers it started (IDs).
    #[serde(skip)]
    pub starts: Vec<String>,
}

impl Interrupted {
    /// `deploy ID (started WHEN by WHO)`.
    pub fn header(&self) -> String {
        let when = if self.since > 0 {
            humantime::format_rfc3339_seconds(
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(self.since),
            )
            .to_string()
        } else {
            "an unknown time".to_owned()
        };
        let who = if self.who.is_empty() {
            "someone"
        } else {
            &self.who
        };
        format!("deploy {} (started {when} by {who})", self.deploy)
    }

    /// One line for `plan` and `ps`.
    pub fn describe(&self) -> String {
        // Seen without the lock, a deploy still running looks the same.
        let what = match self.verdict {
            Verdict::RollBack => {
                "not committed (interrupted, unless it is still running): once the lock is free, the next `up` rolls it back first"
            }
            Verdict::Finish => {
                "interrupted after it committed: the next `up` removes what it set aside"
            }
        };
        format!("{}: {what}", self.header())
    }
}

/// The deploys of this project that did not end, from the containers' labels.
pub fn interrupted(containers: &[ObservedContainer]) -> Vec<Interrupted> {
    let by_id: HashMap<&str, &ObservedContainer> =
        containers.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut deploys: Vec<Interrupted> = Vec::new();
    for c in containers {
        let role = Role::of(c);
        let deploy = c.label(labels::DEPLOY);
        if deploy.is_empty() || !matches!(role, Role::Journal | Role::Replacement | Role::Created) {
            continue;
        }
        let i = match deploys.iter().position(|d| d.deploy == deploy) {
            Some(i) => i,
            None => {
                deploys.push(Interrupted {
                    deploy: deploy.to_owned(),
                    who: String::new(),
                    since: 0,
                    verdict: Verdict::Finish,
                    entry: None,
                    members: Vec::new(),
                    starts: Vec::new(),
                });
                deploys.len() - 1
            }
        };
        let d = &mut deploys[i];
        match role {
            Role::Journal => {
                d.entry = Some(c.id.clone());
                d.who = c.label(labels::WHO).to_owned();
                d.since = c.label(labels::SINCE).parse().unwrap_or(0);
                d.starts = c
                    .label(labels::STARTS)
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
            Role::Replacement => d.members.push(Member::Replacement {
                id: c.id.clone(),
                final_name: c.label(labels::FINAL_NAME).to_owned(),
                replaces: c.label(labels::REPLACES).to_owned(),
                was_running: c.label(labels::REPLACES_RUNNING) == "true",
            }),
            _ => d.members.push(Member::Created { id: c.id.clone() }),
        }
    }
    for d in &mut deploys {
        d.verdict = if d.entry.is_some() {
            Verdict::RollBack
        } else {
            Verdict::Finish
        };
    }
    deploys.retain(|d| {
        d.entry.is_some()
            || d.members.iter().any(|m| match m {
                // Committed, and the container it replaced is still there.
                Member::Replacement { replaces, .. } => by_id.contains_key(replaces.as_str()),
                Member::Created { .. } => false,
            })
    });
    deploys
}

/// The project's containers as they will be once `deploys` are recovered:
/// what the planner compares with the desired state.
pub fn after_recovery(
    containers: &[ObservedContainer],
    deploys: &[Interrupted],
) -> Vec<ObservedContainer> {
    let mut view: Vec<ObservedContainer> = containers
        .iter()
        .filter(|c| Role::of(c).is_service())
        .cloned()
        .collect();
    for d in deploys {
        for m in &d.members {
            match (m, d.verdict) {
                (
                    Member::Replacement {
                        id,
                        final_name,
                        replaces,
                        was_running,
                    },
                    Verdict::RollBack,
                ) => {
                    let previous_exists = view.iter().any(|c| c.id == *replaces);
                    if previous_exists {
                        view.retain(|c| c.id != *id);
                    }
                    let target = if previous_exists { replaces } else { id };
                    if let Some(c) = view.iter_mut().find(|c| c.id == *target) {
                        c.name.clone_from(final_name);
                        if previous_exists {
                            // The rollback starts it again only if it was running.
                            c.state = if *was_running {
                                ContainerState::Running
                            } else {
                                ContainerState::Exited
                            };
                        }
                    }
                }
                (Member::Created { id }, Verdict::RollBack) => view.retain(|c| c.id != *id),
                (Member::Replacement { replaces, .. }, Verdict::Finish) => {
                    view.retain(|c| c.id != *replaces);
                }
                (Member::Created { .. }, Verdict::Finish) => {}
            }
        }
        if d.verdict == Verdict::RollBack {
            for c in view.iter_mut().filter(|c| d.starts.contains(&c.id)) {
                c.state = ContainerState::Exited;
            }
        }
    }
    view
}

/// Rolls back or finishes an interrupted deploy, by container ID. What it
/// did is told through `say`. Idempotent: run it again after a crash.
pub async fn recover(
    engine: &Engine,
    deploy: &Interrupted,
    containers: &[ObservedContainer],
    say: Say<'_>,
) -> Result<(), Error> {
    let find = |id: &str| containers.iter().find(|c| c.id == id);
    let short = |id: &str| id[..id.len().min(12)].to_owned();
    match deploy.verdict {
        Verdict::Finish => {
            for m in &deploy.members {
                if let Member::Replacement { replaces, .. } = m
                    && let Some(previous) = find(replaces)
                {
                    say(&format!(
                        "finishing deploy {}: removing the previous container {} ({})",
                        deploy.deploy,
                        previous.name,
                        short(replaces)
                    ));
                    apply::remove(engine, replaces, false).await?;
                }
            }
        }
        Verdict::RollBack => {
            for m in &deploy.members {
                match m {
                    Member::Replacement {
                        id,
                        final_name,
                        replaces,
                        was_running,
                    } => {
                        let new = find(id);
                        match find(replaces) {
                            Some(previous) if new.is_none() => {
                                // The replacement is gone already: finish restoring.
                                if previous.name != *final_name {
                                    apply::rename(engine, replaces, final_name).await?;
                                }
                                if *was_running && previous.state != ContainerState::Running {
                                    apply::start(engine, replaces).await?;
                                }
                            }
                            Some(previous) => {
                                say(&format!(
                                    "rollback: restoring {final_name} (previous container {}), removing the replacement {}",
                                    short(replaces),
                                    short(id)
                                ));
                                apply::stop(engine, id).await?;
                                if new.is_some_and(|n| n.name == *final_name) {
                                    apply::rename(
                                        engine,
                                        id,
                                        &new_name(final_name, &deploy.deploy),
                                    )
                                    .await?;
                                }
                                if previous.name != *final_name {
                                    apply::rename(engine, replaces, final_name).await?;
                                }
                                if *was_running {
                                    apply::start(engine, replaces).await?;
                                }
                                apply::remove(engine, id, false).await?;
                            }
                            None => {
                                let Some(new) = new else { continue };
                                say(&format!(
                                    "warning: the container {final_name} replaced ({}) is gone; keeping its replacement {}",
                                    short(replaces),
                                    short(id)
                                ));
                                if new.name != *final_name {
                                    apply::rename(engine, id, final_name).await?;
                                }
                            }
                        }
                    }
                    Member::Created { id } => {
                        if let Some(c) = find(id) {
                            say(&format!("rollback: removing {} ({})", c.name, short(id)));
                            apply::stop(engine, id).await?;
                            apply::remove(engine, id, true).await?;
                        }
                    }
                }
            }
            for id in &deploy.starts {
                if let Some(c) = find(id) {
                    say(&format!("rollback: stopping {} again", c.name));
                    apply::stop(engine, id).await?;
                }
            }
        }
    }
    if let Some(entry) = &deploy.entry {
        apply::remove(engine, entry, false).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(id: &str, name: &str, labels: &[(&str, &str)]) -> ObservedContainer {
        ObservedContainer {
            id: id.into(),
            name: name.into(),
            service: "django".into(),
            number: 1,
            hash: String::new(),
            image_id: String::new(),
            key_hashes: HashMap::new(),
            state: ContainerState::Running,
            status: String::new(),
            networks: HashMap::new(),
            volumes: Vec::new(),
            oneoff: false,
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            inspected: None,
        }
    }

    fn replacement(id: &str, name: &str, replaces: &str) -> ObservedContainer {
        container(
            id,
            name,
            &[
                (labels::DEPLOY, "d1"),
                (labels::ROLE, "replacement"),
                (labels::FINAL_NAME, "p-django-1"),
                (labels::REPLACES, replaces),
                (labels::REPLACES_RUNNING, "true"),
            ],
        )
    }

    fn entry() -> ObservedContainer {
        container(
            "j",
            "mrs-deploy-journal.p.d1",
            &[(labels::DEPLOY, "d1"), (labels::ROLE, "journal")],
        )
    }

    #[test]
    fn an_open_deploy_is_rolled_back_and_the_planner_sees_the_previous_container() {
        // Killed between the two renames: old set aside (stopped), new under its temporary name.
        let mut old = container("old", "p-django-1_mrs-old-d1", &[]);
        old.state = ContainerState::Exited;
        let all = vec![
            old,
            replacement("new", "p-django-1_mrs-new-d1", "old"),
            entry(),
        ];
        let found = interrupted(&all);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].verdict, Verdict::RollBack);
        let view = after_recovery(&all, &found);
        assert_eq!(view.len(), 1);
        assert_eq!(
            (view[0].id.as_str(), view[0].name.as_str()),
            ("old", "p-django-1")
        );
        assert_eq!(view[0].state, ContainerState::Running);
    }

    #[test]
    fn a_committed_deploy_is_finished_and_a_done_one_ignored() {
        let old = container("old", "p-django-1_mrs-old-d1", &[]);
        let new = replacement("new", "p-django-1", "old");
        let found = interrupted(&[old.clone(), new.clone()]);
        assert_eq!(found[0].verdict, Verdict::Finish);
        let view = after_recovery(&[old, new.clone()], &found);
        assert_eq!(
            view.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            ["new"]
        );
        // The replaced container is gone: nothing left to do.
        assert!(interrupted(&[new]).is_empty());
    }

    #[test]
    fn names_alone_mean_nothing() {
        // A stale set-aside name with no journal labels is not ours.
        let stale = container("stale", "p-django-1_mrs-previous", &[]);
        let current = container("cur", "p-django-1", &[]);
        assert!(interrupted(&[stale.clone(), current.clone()]).is_empty());
        assert_eq!(after_recovery(&[stale, current], &[]).len(), 2);
    }

    #[test]
    fn created_containers_of_an_open_deploy_vanish_from_the_view() {
        let created = container(
            "c",
            "p-django-1",
            &[(labels::DEPLOY, "d1"), (labels::ROLE, "created")],
        );
        let all = vec![created, entry()];
        let found = interrupted(&all);
        assert!(after_recovery(&all, &found).is_empty());
    }
}
