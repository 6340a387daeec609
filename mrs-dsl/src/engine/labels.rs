//! Labels: docker compose's (so `docker compose -p NAME ps|logs|down` work on
//! what we create) and mrs-deploy's own.

/// Compose project name.
pub const PROJECT: &str = "com.docker.compose.project";
/// Compose service key.
pub const SERVICE: &str = "com.docker.compose.service";
/// Container number, from 1.
pub const NUMBER: &str = "com.docker.compose.container-number";
/// `False` for service containers (capitalised, as compose writes it and filters on it).
pub const ONEOFF: &str = "com.docker.compose.oneoff";
/// Hash of the service configuration; compose's `ps`/`down` need it present.
pub const CONFIG_HASH: &str = "com.docker.compose.config-hash";
/// Local image ID the container was created from.
pub const IMAGE: &str = "com.docker.compose.image";
/// `service:condition:restart` list.
pub const DEPENDS_ON: &str = "com.docker.compose.depends_on";
/// Project directory.
pub const WORKING_DIR: &str = "com.docker.compose.project.working_dir";
/// Comma-separated compose files.
pub const CONFIG_FILES: &str = "com.docker.compose.project.config_files";
/// Tool version.
pub const VERSION: &str = "com.docker.compose.version";
/// On a recreated container: the container it replaces.
pub const REPLACE: &str = "com.docker.compose.replace";
/// Network key (on networks).
pub const NETWORK: &str = "com.docker.compose.network";
/// Volume key (on volumes).
pub const VOLUME: &str = "com.docker.compose.volume";

/// mrs-deploy: the environment that created the resource.
pub const ENV: &str = "io.mrs-deploy.env";
/// mrs-deploy: SHA-256 of the environment spec the binary embeds.
pub const SPEC_HASH: &str = "io.mrs-deploy.spec-hash";
/// mrs-deploy: short hashes of each service key, to say why a container is recreated.
pub const KEY_HASHES: &str = "io.mrs-deploy.key-hashes";
/// mrs-deploy: what a container is to mrs-deploy (see [`crate::engine::journal::Role`]).
pub const ROLE: &str = "io.mrs-deploy.role";
/// mrs-deploy: the deploy that created the container (its journal entry).
pub const DEPLOY: &str = "io.mrs-deploy.deploy";
/// mrs-deploy: on a replacement, the ID of the container it replaces.
pub const REPLACES: &str = "io.mrs-deploy.replaces";
/// mrs-deploy: on a replacement, whether the replaced container was running.
pub const REPLACES_RUNNING: &str = "io.mrs-deploy.replaces-running";
/// mrs-deploy: the name the container has once its deploy is done.
pub const FINAL_NAME: &str = "io.mrs-deploy.name";
/// mrs-deploy: on a journal entry, stopped containers the deploy starts (IDs).
pub const STARTS: &str = "io.mrs-deploy.starts";
/// mrs-deploy: on a journal entry or lock, who (`user@host`).
pub const WHO: &str = "io.mrs-deploy.who";
/// mrs-deploy: on a journal entry or lock, since when (unix seconds).
pub const SINCE: &str = "io.mrs-deploy.since";
/// mrs-deploy: ephemeral environments' expiry (unix seconds).
pub const EXPIRES: &str = "io.mrs-deploy.expires";
/// The seed's folder-creation label: `path,path:uid:gid:mode`.
pub const MKDIR: &str = "io.yourlabs.compose.mkdir";

/// The compose version we write: the one whose behaviour we follow.
pub const COMPOSE_VERSION: &str = "2.40.3";
