//! The observed state: what the engine has for a project, read concurrently.
//! Only reads; [`super::diff`] compares it with the desired state.

use std::collections::HashMap;
use std::path::PathBuf;

use bollard::models::{ContainerSummary, HealthStatusEnum};
use bollard::query_parameters::{InspectNetworkOptions, ListContainersOptionsBuilder};
use futures_util::future::{join_all, try_join4};

use super::desired::{Desired, Folder};
use super::{Context, Engine, Error, is_not_found, labels};

/// A container's state, as the engine reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ContainerState {
    /// Created, never started.
    Created,
    /// Running.
    Running,
    /// Paused.
    Paused,
    /// Being restarted by its restart policy.
    Restarting,
    /// Being removed.
    Removing,
    /// Exited.
    Exited,
    /// Dead.
    Dead,
    /// Anything else.
    Unknown,
}

impl ContainerState {
    /// From the engine's word.
    pub fn parse(s: &str) -> ContainerState {
        match s {
            "created" => ContainerState::Created,
            "running" => ContainerState::Running,
            "paused" => ContainerState::Paused,
            "restarting" => ContainerState::Restarting,
            "removing" => ContainerState::Removing,
            "exited" => ContainerState::Exited,
            "dead" => ContainerState::Dead,
            _ => ContainerState::Unknown,
        }
    }

    /// The engine's word.
    pub fn as_str(self) -> &'static str {
        match self {
            ContainerState::Created => "created",
            ContainerState::Running => "running",
            ContainerState::Paused => "paused",
            ContainerState::Restarting => "restarting",
            ContainerState::Removing => "removing",
            ContainerState::Exited => "exited",
            ContainerState::Dead => "dead",
            ContainerState::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for ContainerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a container's inspection adds to its summary.
#[derive(Clone, Debug, Default)]
pub struct Inspected {
    /// `Config.Env`, to compare secret values (never shown).
    pub env: Vec<String>,
    /// Health status, when it has a health check.
    pub health: Option<String>,
    /// Restarts by its restart policy.
    pub restart_count: i64,
}

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
    /// State.
    pub state: ContainerState,
    /// Human status (`Up 3 minutes (healthy)`).
    pub status: String,
    /// Networks it is attached to: name -> network ID.
    pub networks: HashMap<String, String>,
    /// Volume mounts: (volume name, destination).
    pub volumes: Vec<(String, String)>,
    /// Whether it is a one-off (`run`) container.
    pub oneoff: bool,
    /// All labels.
    pub labels: HashMap<String, String>,
    /// Filled for the containers that hold a desired name.
    pub inspected: Option<Inspected>,
}

impl ObservedContainer {
    /// A label's value, or "".
    pub fn label(&self, key: &str) -> &str {
        self.labels.get(key).map_or("", String::as_str)
    }

    fn from_summary(c: ContainerSummary) -> ObservedContainer {
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
            state: ContainerState::parse(&c.state.map(|s| s.to_string()).unwrap_or_default()),
            status: c.status.unwrap_or_default(),
            networks: c
                .network_settings
                .and_then(|n| n.networks)
                .map(|n| {
                    n.into_iter()
                        .map(|(name, e)| (name, e.network_id.unwrap_or_default()))
                        .collect()
                })
                .unwrap_or_default(),
            volumes: c
                .mounts
                .unwrap_or_default()
                .into_iter()
                .filter(|m| m.typ.as_deref() == Some("volume") && m.name.is_some())
                .map(|m| {
                    (
                        m.name.unwrap_or_default(),
                        m.destination.unwrap_or_default(),
                    )
                })
                .collect(),
            oneoff: get(labels::ONEOFF) == "True",
            labels,
            inspected: None,
        }
    }
}

/// An image the engine has.
#[derive(Clone, Debug, Default)]
pub struct ImageInfo {
    /// Local ID.
    pub id: String,
    /// Paths the image declares as volumes (anonymous unless mounted).
    pub volumes: Vec<String>,
}

/// A folder's state on this machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FolderState {
    /// Not there.
    Missing,
    /// There, with the asked owner and mode.
    Matches,
    /// There, owner or mode differ.
    Differs,
}

/// Everything the diff needs.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    /// Every container labelled with the project (stopped ones and one-offs too).
    pub containers: Vec<ObservedContainer>,
    /// Desired networks: name -> ID, when it exists.
    pub networks: HashMap<String, Option<String>>,
    /// Desired volumes: name -> exists.
    pub volumes: HashMap<String, bool>,
    /// Desired images: reference -> info, when the engine has it.
    pub images: HashMap<String, Option<ImageInfo>>,
    /// Desired folders (on a local engine).
    pub folders: HashMap<PathBuf, FolderState>,
}

/// Reads what the plan needs, concurrently.
pub async fn observe(engine: &Engine, desired: &Desired) -> Result<Observed, Error> {
    let networks = join_all(desired.networks.iter().map(|n| async move {
        network(engine, &n.name)
            .await
            .map(|found| (n.name.clone(), found.map(|(id, _)| id)))
    }));
    let volumes = join_all(
        desired
            .volumes
            .iter()
            .map(|v| async move { volume(engine, &v.name).await.map(|e| (v.name.clone(), e)) }),
    );
    let mut refs: Vec<&String> = desired.containers.iter().map(|c| &c.image).collect();
    refs.sort();
    refs.dedup();
    let images = join_all(
        refs.into_iter()
            .map(|r| async move { image(engine, r).await.map(|i| (r.clone(), i)) }),
    );
    let listed = containers(engine, &desired.project);
    let (networks, volumes, images, mut containers) = try_join4(
        async {
            networks
                .await
                .into_iter()
                .collect::<Result<HashMap<_, _>, _>>()
        },
        async {
            volumes
                .await
                .into_iter()
                .collect::<Result<HashMap<_, _>, _>>()
        },
        async {
            images
                .await
                .into_iter()
                .collect::<Result<HashMap<_, _>, _>>()
        },
        listed,
    )
    .await?;
    let wanted: Vec<usize> = containers
        .iter()
        .enumerate()
        .filter(|(_, c)| desired.containers.iter().any(|d| d.name == c.name))
        .map(|(i, _)| i)
        .collect();
    let inspections = join_all(wanted.iter().map(|&i| inspect(engine, &containers[i].id))).await;
    for (i, inspected) in wanted.into_iter().zip(inspections) {
        containers[i].inspected = inspected?;
    }
    let folders = desired
        .folders
        .iter()
        .map(|f| (f.path.clone(), folder_state(f)))
        .collect();
    Ok(Observed {
        containers,
        networks,
        volumes,
        images,
        folders,
    })
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
        .map(ObservedContainer::from_summary)
        .collect())
}

/// Env, health and restarts of a container; `None` when it is gone.
async fn inspect(engine: &Engine, id: &str) -> Result<Option<Inspected>, Error> {
    match engine.docker.inspect_container(id, None).await {
        Ok(c) => Ok(Some(Inspected {
            env: c.config.and_then(|c| c.env).unwrap_or_default(),
            health: c
                .state
                .and_then(|s| s.health)
                .and_then(|h| h.status)
                .filter(|s| *s != HealthStatusEnum::EMPTY && *s != HealthStatusEnum::NONE)
                .map(|s| s.to_string()),
            restart_count: c.restart_count.unwrap_or(0),
        })),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e).ctx(|| format!("inspect container {id}")),
    }
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
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e).ctx(|| format!("inspect network {name}")),
    }
}

/// Whether a volume exists.
pub async fn volume(engine: &Engine, name: &str) -> Result<bool, Error> {
    match engine.docker.inspect_volume(name).await {
        Ok(_) => Ok(true),
        Err(e) if is_not_found(&e) => Ok(false),
        Err(e) => Err(e).ctx(|| format!("inspect volume {name}")),
    }
}

/// The local ID and declared volumes of an image, if the engine has it.
pub async fn image(engine: &Engine, reference: &str) -> Result<Option<ImageInfo>, Error> {
    match engine.docker.inspect_image(reference).await {
        Ok(i) => Ok(Some(ImageInfo {
            id: i.id.unwrap_or_default(),
            volumes: i
                .config
                .and_then(|c| c.volumes)
                .map(|v| v.into_iter().collect())
                .unwrap_or_default(),
        })),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e).ctx(|| format!("inspect image {reference}")),
    }
}

fn folder_state(f: &Folder) -> FolderState {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    match std::fs::metadata(&f.path) {
        Err(_) => FolderState::Missing,
        Ok(meta) => {
            let owner_ok = f
                .owner
                .is_none_or(|(u, g)| meta.uid() == u && meta.gid() == g);
            let mode_ok = f
                .mode
                .is_none_or(|m| meta.permissions().mode() & 0o7777 == m);
            if meta.is_dir() && owner_ok && mode_ok {
                FolderState::Matches
            } else {
                FolderState::Differs
            }
        }
    }
}
