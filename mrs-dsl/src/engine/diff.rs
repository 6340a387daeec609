//! The diff: desired state against observed state, a pure function.
//! `plan` prints its result; `up` executes exactly it.

use super::desired::Desired;
use super::observe::{ContainerState, FolderState, Observed, ObservedContainer};
use super::plan::{Action, Step, StepKind};

/// Steps in execution order: networks, volumes, folders, containers, then
/// the project's other containers (orphans and strays). `view` is the
/// project's containers as they will be after recovery.
pub fn diff(
    desired: &Desired,
    observed: &Observed,
    view: &[ObservedContainer],
    remove_orphans: bool,
) -> Vec<Step> {
    let mut steps = Vec::new();
    let named = |kind, name: &String, exists: bool, external: bool| Step {
        kind,
        name: name.clone(),
        service: None,
        action: if exists { Action::Keep } else { Action::Create },
        detail: if external {
            "external".into()
        } else {
            String::new()
        },
    };
    for n in &desired.networks {
        let exists = observed.networks.get(&n.name).is_some_and(Option::is_some);
        steps.push(named(StepKind::Network, &n.name, exists, n.config.external));
    }
    for v in &desired.volumes {
        let exists = observed.volumes.get(&v.name).copied().unwrap_or(false);
        steps.push(named(StepKind::Volume, &v.name, exists, v.config.external));
    }
    for f in &desired.folders {
        let detail = match (f.owner, f.mode) {
            (Some((u, g)), Some(m)) => format!("{u}:{g} {m:04o}"),
            (Some((u, g)), None) => format!("{u}:{g}"),
            _ => String::new(),
        };
        let action = match observed.folders.get(&f.path) {
            Some(FolderState::Matches) => Action::Keep,
            Some(FolderState::Differs) => Action::Recreate(vec![
                "owner or mode differs (fixed in place, data kept)".into(),
            ]),
            _ => Action::Create,
        };
        steps.push(Step {
            kind: StepKind::Folder,
            name: f.path.display().to_string(),
            service: None,
            action,
            detail,
        });
    }
    for c in &desired.containers {
        let current = view.iter().find(|o| o.name == c.name && !o.oneoff);
        let action = match current {
            None => Action::Create,
            Some(o) => {
                let why = recreate_reasons(desired, observed, c, o);
                if !why.is_empty() {
                    Action::Recreate(why)
                } else if o.state == ContainerState::Running {
                    Action::Keep
                } else {
                    Action::Start
                }
            }
        };
        steps.push(Step {
            kind: StepKind::Container,
            name: c.name.clone(),
            service: Some(c.service.clone()),
            action,
            detail: c.image.clone(),
        });
    }
    for o in view {
        if o.oneoff || desired.containers.iter().any(|c| c.name == o.name) {
            continue;
        }
        let known = desired.containers.iter().any(|c| c.service == o.service);
        let action = match (known, remove_orphans) {
            // Labelled like one of ours under another name: not ours to touch.
            (true, _) => Action::Stray,
            (false, true) => Action::Remove,
            (false, false) => Action::KeepOrphan,
        };
        steps.push(Step {
            kind: StepKind::Container,
            name: o.name.clone(),
            service: Some(o.service.clone()),
            action,
            detail: String::new(),
        });
    }
    steps
}

/// Why `o` cannot stay the container of `c`; empty when it can.
fn recreate_reasons(
    desired: &Desired,
    observed: &Observed,
    c: &super::desired::DesiredContainer,
    o: &ObservedContainer,
) -> Vec<String> {
    let mut why = Vec::new();
    if o.hash != c.hash {
        let changed: Vec<&str> = c
            .key_hashes
            .iter()
            .filter(|(k, v)| o.key_hashes.get(*k) != Some(v))
            .map(|(k, _)| k.as_str())
            .chain(
                o.key_hashes
                    .keys()
                    .filter(|k| !c.key_hashes.contains_key(*k))
                    .map(String::as_str),
            )
            .collect();
        why.push(if changed.is_empty() {
            "configuration changed".to_owned()
        } else {
            format!("{} changed", changed.join(", "))
        });
    }
    if let Some(Some(image)) = observed.images.get(&c.image)
        && image.id != o.image_id
    {
        why.push(format!("image {} now points to another image", c.image));
    }
    // Secrets are not in the hash: compare with what the container got.
    if let Some(inspected) = &o.inspected {
        let changed: Vec<&str> = c
            .env
            .iter()
            .filter(|v| v.is_secret())
            .filter(|v| {
                let want = v.entry();
                !inspected.env.contains(&want)
            })
            .map(|v| v.key.as_str())
            .collect();
        if !changed.is_empty() {
            why.push(format!("secret {} changed", changed.join(", ")));
        }
    }
    for (network, _) in &c.networks {
        let external = desired
            .networks
            .iter()
            .any(|n| n.name == *network && n.config.external);
        match (observed.networks.get(network), o.networks.get(network)) {
            (Some(Some(id)), Some(attached)) if attached == id || attached.is_empty() => {}
            (Some(Some(_)), Some(_)) => why.push(format!("network {network} was recreated")),
            (_, Some(_)) => why.push(format!("network {network} was removed")),
            (_, None) if o.state == ContainerState::Running || !external => {
                why.push(format!("not attached to {network}"));
            }
            (_, None) => {}
        }
    }
    why
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::engine::desired::env::{EnvValue, EnvVar};
    use crate::engine::desired::{DesiredContainer, Named};
    use crate::engine::observe::{ImageInfo, Inspected};

    fn desired(env: Vec<EnvVar>) -> Desired {
        let network: mrs_compose::model::Network =
            serde_json::from_value(serde_json::json!({})).expect("network");
        Desired {
            project: "p".into(),
            home: "/h".into(),
            networks: vec![Named {
                key: "default".into(),
                name: "p_default".into(),
                config: network,
                hash: "n".into(),
            }],
            volumes: Vec::new(),
            folders: Vec::new(),
            containers: vec![DesiredContainer {
                service: "web".into(),
                number: 1,
                name: "p-web-1".into(),
                image: "img".into(),
                hash: "h1".into(),
                key_hashes: [("command".to_owned(), "c1".to_owned())]
                    .into_iter()
                    .collect(),
                body: Default::default(),
                env,
                networks: vec![("p_default".into(), Vec::new())],
                depends_on: Vec::new(),
                has_healthcheck: false,
            }],
        }
    }

    fn observed(state: ContainerState, network_id: &str) -> (Observed, ObservedContainer) {
        let c = ObservedContainer {
            id: "id1".into(),
            name: "p-web-1".into(),
            service: "web".into(),
            number: 1,
            hash: "h1".into(),
            image_id: "sha256:1".into(),
            key_hashes: [("command".to_owned(), "c1".to_owned())]
                .into_iter()
                .collect(),
            state,
            status: String::new(),
            networks: [("p_default".to_owned(), "net1".to_owned())]
                .into_iter()
                .collect(),
            volumes: Vec::new(),
            oneoff: false,
            labels: HashMap::new(),
            inspected: Some(Inspected {
                env: vec!["SECRET_KEY=old".into()],
                ..Inspected::default()
            }),
        };
        let o = Observed {
            containers: vec![c.clone()],
            networks: [(
                "p_default".to_owned(),
                (!network_id.is_empty()).then(|| network_id.to_owned()),
            )]
            .into_iter()
            .collect(),
            images: [(
                "img".to_owned(),
                Some(ImageInfo {
                    id: "sha256:1".into(),
                    volumes: Vec::new(),
                }),
            )]
            .into_iter()
            .collect(),
            ..Observed::default()
        };
        (o, c)
    }

    fn container_action(steps: &[Step]) -> Action {
        steps
            .iter()
            .find(|s| s.kind == StepKind::Container && s.name == "p-web-1")
            .map(|s| s.action.clone())
            .expect("a container step")
    }

    fn secret(v: &str) -> Vec<EnvVar> {
        vec![EnvVar {
            key: "SECRET_KEY".into(),
            value: Some(EnvValue::Secret(mrs_env::secret::Secret::new(v.into()))),
        }]
    }

    #[test]
    fn up_to_date_is_kept_stopped_is_started() {
        let (o, c) = observed(ContainerState::Running, "net1");
        assert_eq!(
            container_action(&diff(&desired(secret("old")), &o, &[c], false)),
            Action::Keep
        );
        let (o, c) = observed(ContainerState::Exited, "net1");
        assert_eq!(
            container_action(&diff(&desired(secret("old")), &o, &[c], false)),
            Action::Start
        );
    }

    #[test]
    fn a_changed_secret_recreates_without_being_in_the_hash() {
        let (o, c) = observed(ContainerState::Running, "net1");
        let action = container_action(&diff(&desired(secret("new")), &o, &[c], false));
        assert_eq!(
            action,
            Action::Recreate(vec!["secret SECRET_KEY changed".into()])
        );
    }

    #[test]
    fn a_removed_or_recreated_network_recreates_even_a_stopped_container() {
        let (o, c) = observed(ContainerState::Exited, "");
        let steps = diff(&desired(secret("old")), &o, &[c], false);
        assert_eq!(steps[0].action, Action::Create, "the network is created");
        assert_eq!(
            container_action(&steps),
            Action::Recreate(vec!["network p_default was removed".into()])
        );
        let (o, c) = observed(ContainerState::Exited, "net2");
        assert_eq!(
            container_action(&diff(&desired(secret("old")), &o, &[c], false)),
            Action::Recreate(vec!["network p_default was recreated".into()])
        );
    }

    #[test]
    fn the_current_container_is_found_by_name_and_others_are_left_alone() {
        let (o, c) = observed(ContainerState::Running, "net1");
        let mut stray = c.clone();
        stray.id = "id2".into();
        stray.name = "p-web-1_mrs-previous".into();
        stray.state = ContainerState::Exited;
        let steps = diff(&desired(secret("old")), &o, &[stray, c], true);
        assert_eq!(container_action(&steps), Action::Keep);
        assert!(
            steps
                .iter()
                .any(|s| s.name == "p-web-1_mrs-previous" && s.action == Action::Stray)
        );
        let mut orphan = observed(ContainerState::Running, "net1").1;
        orphan.name = "p-old-1".into();
        orphan.service = "old".into();
        let steps = diff(&desired(secret("old")), &o, &[orphan.clone()], false);
        assert_eq!(container_action(&steps), Action::Create);
        assert!(
            steps
                .iter()
                .any(|s| s.name == "p-old-1" && s.action == Action::KeepOrphan)
        );
        let steps = diff(&desired(secret("old")), &o, &[orphan], true);
        assert!(
            steps
                .iter()
                .any(|s| s.name == "p-old-1" && s.action == Action::Remove)
        );
    }
}
