//! `down`: remove what the environment created, and nothing else.

use std::collections::HashMap;

use bollard::query_parameters::{
    ListNetworksOptionsBuilder, ListVolumesOptionsBuilder, RemoveVolumeOptions,
};

use super::apply::{Say, stop_and_remove};
use super::journal::Role;
use super::{Context, Engine, Error, labels, observe};

/// What `down` removes besides containers.
#[derive(Debug, Clone, Copy)]
pub struct DownOptions {
    /// Also remove the project's named volumes.
    pub volumes: bool,
    /// Also remove the containers' anonymous volumes (ephemeral environments, or `--volumes`).
    pub anonymous_volumes: bool,
}

/// The engine names an anonymous volume with 64 hex digits.
fn is_anonymous(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Stops and removes the project's containers (dependents first; journal
/// entries and interrupted deploys' containers too, the deploy lock aside),
/// then its non-external networks, and with `volumes` its named volumes.
/// Only resources labelled with this project are touched, containers by ID.
pub async fn down(
    engine: &Engine,
    project: &str,
    order: &[String],
    options: DownOptions,
    say: Say<'_>,
) -> Result<usize, Error> {
    let mut containers = observe::containers(engine, project).await?;
    containers.retain(|c| !matches!(Role::of(c), Role::Lock | Role::Lease));
    // Reverse dependency order: services later in the start order go first.
    let rank = |service: &str| {
        order
            .iter()
            .position(|s| s == service)
            .unwrap_or(usize::MAX)
    };
    containers.sort_by_key(|c| std::cmp::Reverse(rank(&c.service)));
    let mut removed = 0;
    for c in &containers {
        say(&format!("removing container {}", c.name));
        stop_and_remove(engine, &c.id, options.anonymous_volumes).await?;
        removed += 1;
    }
    if options.anonymous_volumes {
        // A volume a replacement inherited is mounted by name, so the engine
        // does not count it as the container's anonymous volume: remove it here.
        let mut anonymous: Vec<&str> = containers
            .iter()
            .flat_map(|c| c.volumes.iter().map(|(name, _)| name.as_str()))
            .filter(|name| is_anonymous(name))
            .collect();
        anonymous.sort_unstable();
        anonymous.dedup();
        for name in anonymous {
            match engine
                .docker
                .remove_volume(name, None::<RemoveVolumeOptions>)
                .await
            {
                Ok(()) => removed += 1,
                Err(e) if super::is_not_found(&e) => {}
                Err(e) => say(&format!("warning: could not remove volume {name}: {e}")),
            }
        }
    }
    let filters = HashMap::from([(
        "label".to_owned(),
        vec![format!("{}={project}", labels::PROJECT)],
    )]);
    let networks = engine
        .docker
        .list_networks(Some(
            ListNetworksOptionsBuilder::default()
                .filters(&filters)
                .build(),
        ))
        .await
        .ctx(|| format!("list the networks of project {project}"))?;
    for n in networks {
        let name = n.name.unwrap_or_default();
        say(&format!("removing network {name}"));
        match engine.docker.remove_network(&name).await {
            Ok(()) => removed += 1,
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => {}
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 403 | 409,
                message,
            }) => {
                say(&format!(
                    "warning: network {name} is still in use: {message}"
                ));
            }
            Err(e) => return Err(e).ctx(|| format!("remove network {name}")),
        }
    }
    if options.volumes {
        let list = engine
            .docker
            .list_volumes(Some(
                ListVolumesOptionsBuilder::default()
                    .filters(&filters)
                    .build(),
            ))
            .await
            .ctx(|| format!("list the volumes of project {project}"))?;
        for v in list.volumes.unwrap_or_default() {
            say(&format!("removing volume {}", v.name));
            engine
                .docker
                .remove_volume(&v.name, None::<RemoveVolumeOptions>)
                .await
                .ctx(|| format!("remove volume {}", v.name))?;
            removed += 1;
        }
    }
    if removed == 0 {
        say(&format!(
            "warning: no resource found to remove for project \"{project}\""
        ));
    }
    Ok(removed)
}
