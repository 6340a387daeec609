//! `down`: remove what the environment created, and nothing else.

use std::collections::HashMap;

use bollard::query_parameters::{
    ListNetworksOptionsBuilder, ListVolumesOptionsBuilder, RemoveVolumeOptions,
};

use super::apply::{Say, stop_and_remove};
use super::{Context, Engine, Error, labels, observed};

/// What `down` removes besides containers.
#[derive(Debug, Clone, Copy)]
pub struct DownOptions {
    /// Also remove the project's named volumes.
    pub volumes: bool,
}

/// Stops and removes the project's containers (dependents first), then its
/// non-external networks, and with `volumes` its named volumes. Only
/// resources labelled with this project are touched.
pub async fn down(
    engine: &Engine,
    project: &str,
    order: &[String],
    options: DownOptions,
    say: Say<'_>,
) -> Result<usize, Error> {
    let mut containers = observed::containers(engine, project).await?;
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
        stop_and_remove(engine, &c.name).await?;
        removed += 1;
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
