//! The observed state: what the engine has for a project.

use std::collections::HashMap;

use bollard::query_parameters::{InspectNetworkOptions, ListContainersOptionsBuilder};

use super::{Context, Engine, Error, labels};

/// A container of the project, as the engine reports it.
#[derive(Clone, Debug)]
pub struct ObservedContainer {
    /// Engine ID.
    pub id: String,
    /// Name, without the leading `/`.
    pub name: String,
    /// Service label.
    pub service: String,
    /// Container number label.
    pub number: u32,
    /// Config hash label.
    pub hash: String,
    /// Image ID label.
    pub image_id: String,
    /// Key hashes label.
    pub key_hashes: HashMap<String, String>,
    /// `running`, `exited`, `created`...
    pub state: String,
    /// Human status (`Up 3 minutes (healthy)`).
    pub status: String,
    /// Networks it is attached to, by name.
    pub networks: Vec<String>,
    /// Whether it is a container kept for rollback.
    pub rollback_of: Option<String>,
    /// Whether it is a one-off (`run`) container.
    pub oneoff: bool,
    /// All labels.
    pub labels: HashMap<String, String>,
}

/// Every container labelled with `project` (stopped ones and one-offs included).
pub async fn containers(engine: &Engine, project: &str) -> Result<Vec<ObservedContainer>, Error> {
    let filters = HashMap::from([(
        "label".to_owned(),
        vec![format!("{}={project}", labels::PROJECT)],
    )]);
    let options = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    let list = engine
        .docker
        .list_containers(Some(options))
        .await
        .ctx(|| format!("list the containers of project {project}"))?;
    Ok(list
        .into_iter()
        .map(|c| {
            let labels = c.labels.unwrap_or_default();
            let get = |k: &str| labels.get(k).cloned().unwrap_or_default();
            ObservedContainer {
                id: c.id.unwrap_or_default(),
                name: c
                    .names
                    .and_then(|n| n.first().map(|s| s.trim_start_matches('/').to_owned()))
                    .unwrap_or_default(),
                service: get(labels::SERVICE),
                number: get(labels::NUMBER).parse().unwrap_or(1),
                hash: get(labels::CONFIG_HASH),
                image_id: get(labels::IMAGE),
                key_hashes: get(labels::KEY_HASHES)
                    .split(',')
                    .filter_map(|kv| {
                        kv.split_once('=')
                            .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    })
                    .collect(),
                state: c.state.map(|s| s.to_string()).unwrap_or_default(),
                status: c.status.unwrap_or_default(),
                networks: c
                    .network_settings
                    .and_then(|n| n.networks)
                    .map(|n| n.into_keys().collect())
                    .unwrap_or_default(),
                rollback_of: labels.get(labels::ROLLBACK_OF).cloned(),
                oneoff: get(labels::ONEOFF) == "True",
                labels,
            }
        })
        .collect())
}

/// A network's ID and labels, if it exists.
pub async fn network(
    engine: &Engine,
    name: &str,
) -> Result<Option<(String, HashMap<String, String>)>, Error> {
    match engine
        .docker
        .inspect_network(name, None::<InspectNetworkOptions>)
        .await
    {
        Ok(n) => Ok(Some((
            n.id.unwrap_or_default(),
            n.labels.unwrap_or_default(),
        ))),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(None),
        Err(e) => Err(e).ctx(|| format!("inspect network {name}")),
    }
}

/// Whether a volume exists.
pub async fn volume(engine: &Engine, name: &str) -> Result<bool, Error> {
    match engine.docker.inspect_volume(name).await {
        Ok(_) => Ok(true),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(false),
        Err(e) => Err(e).ctx(|| format!("inspect volume {name}")),
    }
}

/// The local ID of an image, if the engine has it.
pub async fn image_id(engine: &Engine, reference: &str) -> Result<Option<String>, Error> {
    match engine.docker.inspect_image(reference).await {
        Ok(i) => Ok(i.id),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(None),
        Err(e) => Err(e).ctx(|| format!("inspect image {reference}")),
    }
}
