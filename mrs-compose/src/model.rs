//! The typed compose model, in the normal form `docker compose config` prints:
//! environment, labels and sysctls as mappings, ports and volumes in long
//! form, service networks and `depends_on` as mappings.
//!
//! It is decoded from the merged, interpolated tree, accepting every form the
//! specification allows (list or map, string or list, number or string).
//! The keys the engine uses, or will (`secrets`, `network_mode`, `links`,
//! `profiles`, `deploy.resources`), are typed; every other key of the
//! specification is carried as written in the `extensions` maps, so that
//! nothing a file says is dropped.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::duration::GoDuration;
use crate::ports::PortMapping;
use crate::volumes::VolumeMount;

/// A compose project: services, networks and volumes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Project {
    /// The project name, once decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `version:`, obsolete: read and ignored, never printed (as compose does).
    #[serde(default, skip_serializing)]
    pub version: Option<serde_json::Value>,
    /// Services by name.
    #[serde(default, deserialize_with = "flex::map_or_null")]
    pub services: IndexMap<String, Service>,
    /// Networks by compose key.
    #[serde(
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "flex::map_or_null"
    )]
    pub networks: IndexMap<String, Network>,
    /// Named volumes by compose key.
    #[serde(
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "flex::map_or_null"
    )]
    pub volumes: IndexMap<String, Volume>,
    /// Secrets by compose key.
    #[serde(
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "flex::map_or_null"
    )]
    pub secrets: IndexMap<String, FileObject>,
    /// Configs by compose key.
    #[serde(
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "flex::map_or_null"
    )]
    pub configs: IndexMap<String, FileObject>,
    /// `x-` extension fields, and the other top-level keys of the
    /// specification (`models`...) as written.
    #[serde(flatten)]
    pub extensions: IndexMap<String, serde_json::Value>,
}

/// A service.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Service {
    /// Build instructions (never run on a server).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::build"
    )]
    pub build: Option<Build>,
    /// Capabilities added.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "flex::strings"
    )]
    pub cap_add: Vec<String>,
    /// Capabilities dropped.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "flex::strings"
    )]
    pub cap_drop: Vec<String>,
    /// Command, as a list of words.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::command"
    )]
    pub command: Option<Vec<String>>,
    /// Configs mounted into the container.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "flex::file_references"
    )]
    pub configs: Vec<FileReference>,
    /// Fixed container name.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_string"
    )]
    pub container_name: Option<String>,
    /// CPU limit.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_f64"
    )]
    pub cpus: Option<f64>,
    /// Deployment settings (replicas, resources...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy: Option<Deploy>,
    /// Start-order dependencies.
    #[serde(
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "flex::depends_on"
    )]
    pub depends_on: IndexMap<String, Dependency>,
    /// DNS servers.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "flex::strings"
    )]
    pub dns: Vec<String>,
    /// DNS options.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "flex::strings"
    )]
    pub dns_opt: Vec<String>,
    /// DNS search domains.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "flex::strings"
    )]
    pub dns_search: Vec<String>,
    /// Domain name.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_string"
    )]
    pub domainname: Option<String>,
    /// Entrypoint, as a list of words.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::command"
    )]
    pub entrypoint: Option<Vec<String>>,
    /// Files of `KEY=value` lines, read before `environment`.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "flex::env_files"
    )]
    pub env_file: Vec<EnvFile>,
    /// Environment; `None` is a bare name (value from the deployer's environment, else unset).
    #[serde(
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "flex::key_values"
    )]
    pub environment: IndexMap<String, Option<String>>,
    /// Ports exposed to linked services only.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "flex::strings"
    )]
    pub expose: Vec<String>,
    /// Extra `/etc/hosts` entries, as `host:ip`.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "flex::extra_hosts"
    )]
    pub extra_hosts: Vec<String>,
    /// Health check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    /// Host name.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_string"
    )]
    pub hostname: Option<String>,
    /// Image reference.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_string"
    )]
    pub image: Option<String>,
    /// Run an init process.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_bool"
    )]
    pub init: Option<bool>,
    /// Labels.
    #[serde(
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "flex::labels"
    )]
    pub labels: IndexMap<String, String>,
    /// Links to other services (`service` or `service:alias`).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "flex::strings"
    )]
    pub links: Vec<String>,
    /// Logging driver and options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging: Option<Logging>,
    /// Memory limit in bytes.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_bytes"
    )]
    pub mem_limit: Option<i64>,
    /// Network stack to use instead of networks (`host`, `none`,
    /// `service:NAME`, `container:NAME`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_string"
    )]
    pub network_mode: Option<String>,
    /// Networks the service joins.
    #[serde(
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "flex::service_networks"
    )]
    pub networks: IndexMap<String, Option<ServiceNetwork>>,
    /// Process limit.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_i64"
    )]
    pub pids_limit: Option<i64>,
    /// Published ports.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "flex::ports"
    )]
    pub ports: Vec<PortMapping>,
    /// Privileged mode.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_bool"
    )]
    pub privileged: Option<bool>,
    /// Profiles the service belongs to: without any it always runs, with
    /// some only when one of them is active.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "flex::strings"
    )]
    pub profiles: Vec<String>,
    /// When to pull the image.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_string"
    )]
    pub pull_policy: Option<String>,
    /// Read-only root filesystem.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_bool"
    )]
    pub read_only: Option<bool>,
    /// Restart policy (`no`, `always`, `on-failure[:N]`, `unless-stopped`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_string"
    )]
    pub restart: Option<String>,
    /// Secrets mounted into the container (under `/run/secrets` by default).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "flex::file_references"
    )]
    pub secrets: Vec<FileReference>,
    /// Security options.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "flex::strings"
    )]
    pub security_opt: Vec<String>,
    /// Size of `/dev/shm` in bytes.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_bytes"
    )]
    pub shm_size: Option<i64>,
    /// Keep stdin open.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_bool"
    )]
    pub stdin_open: Option<bool>,
    /// Time to wait after the stop signal before killing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_grace_period: Option<GoDuration>,
    /// Stop signal.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_string"
    )]
    pub stop_signal: Option<String>,
    /// Kernel parameters.
    #[serde(
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "flex::labels"
    )]
    pub sysctls: IndexMap<String, String>,
    /// tmpfs mounts (`/path[:options]`).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "flex::strings"
    )]
    pub tmpfs: Vec<String>,
    /// Allocate a TTY.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_bool"
    )]
    pub tty: Option<bool>,
    /// Resource limits.
    #[serde(
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "flex::ulimits"
    )]
    pub ulimits: IndexMap<String, Ulimit>,
    /// User (name or uid[:gid]).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_string"
    )]
    pub user: Option<String>,
    /// Mounts.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "flex::volumes"
    )]
    pub volumes: Vec<VolumeMount>,
    /// Working directory.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_string"
    )]
    pub working_dir: Option<String>,
    /// `x-` extension fields, and the other keys of the specification
    /// (`devices`, `platform`, `runtime`...) as written.
    #[serde(flatten)]
    pub extensions: IndexMap<String, serde_json::Value>,
}

/// A service's use of a secret or config.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FileReference {
    /// The secret's or config's compose key.
    #[serde(deserialize_with = "flex::string")]
    pub source: String,
    /// Path in the container (a secret's default is `/run/secrets/<source>`,
    /// a config's `/<source>`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_string"
    )]
    pub target: Option<String>,
    /// Owner user id.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_string"
    )]
    pub uid: Option<String>,
    /// Owner group id.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_string"
    )]
    pub gid: Option<String>,
    /// Permissions, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<serde_json::Value>,
    /// `x-` extension fields.
    #[serde(flatten)]
    pub extensions: IndexMap<String, serde_json::Value>,
}

/// A top-level secret or config: where its content comes from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FileObject {
    /// Engine name (`<project>_<key>` unless set).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_string"
    )]
    pub name: Option<String>,
    /// A file on the host (absolute once loaded).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_string"
    )]
    pub file: Option<String>,
    /// A variable of the deployer's environment holding the content.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_string"
    )]
    pub environment: Option<String>,
    /// The content itself (configs only).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_string"
    )]
    pub content: Option<String>,
    /// Created outside compose.
    #[serde(
        default,
        skip_serializing_if = "std::ops::Not::not",
        deserialize_with = "flex::external"
    )]
    pub external: bool,
    /// Labels.
    #[serde(
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "flex::labels"
    )]
    pub labels: IndexMap<String, String>,
    /// `driver`, `driver_opts`, `template_driver` and `x-` fields, as written.
    #[serde(flatten)]
    pub extensions: IndexMap<String, serde_json::Value>,
}

/// `deploy:`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Deploy {
    /// Resource limits and reservations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    /// `replicas`, `restart_policy`, `labels`... as written.
    #[serde(flatten)]
    pub other: IndexMap<String, serde_json::Value>,
}

/// `deploy.resources`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Resources {
    /// Upper bounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<ResourceAmounts>,
    /// Guaranteed amounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservations: Option<ResourceAmounts>,
    /// `x-` extension fields.
    #[serde(flatten)]
    pub extensions: IndexMap<String, serde_json::Value>,
}

/// CPU, memory and process amounts of `deploy.resources`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceAmounts {
    /// CPUs (fractions allowed).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_f64"
    )]
    pub cpus: Option<f64>,
    /// Memory in bytes.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_bytes"
    )]
    pub memory: Option<i64>,
    /// Process limit.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_i64"
    )]
    pub pids: Option<i64>,
    /// `devices`, `generic_resources` and `x-` fields, as written.
    #[serde(flatten)]
    pub other: IndexMap<String, serde_json::Value>,
}

/// `build:` in long form.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Build {
    /// Build context.
    #[serde(default, deserialize_with = "flex::string")]
    pub context: String,
    /// Dockerfile path.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_string"
    )]
    pub dockerfile: Option<String>,
    /// Build arguments.
    #[serde(
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "flex::key_values"
    )]
    pub args: IndexMap<String, Option<String>>,
    /// Other build keys, kept as written.
    #[serde(flatten)]
    pub other: IndexMap<String, serde_json::Value>,
}

/// An `env_file` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvFile {
    /// Path, relative to the project directory.
    pub path: String,
    /// Whether a missing file is an error.
    #[serde(default = "flex::yes", deserialize_with = "flex::bool")]
    pub required: bool,
    /// `raw` reads lines as `KEY=value` with nothing unquoted or interpolated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// A `depends_on` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    /// What the dependency must reach before this service starts.
    #[serde(default)]
    pub condition: Condition,
    /// Restart this service when the dependency is recreated.
    #[serde(default, deserialize_with = "flex::bool")]
    pub restart: bool,
    /// Whether a missing or failing dependency is an error (else a warning).
    #[serde(default = "flex::yes", deserialize_with = "flex::bool")]
    pub required: bool,
}

/// `depends_on` conditions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Started (ordering only).
    #[default]
    ServiceStarted,
    /// Its health check reports healthy.
    ServiceHealthy,
    /// It exited with code 0.
    ServiceCompletedSuccessfully,
}

/// `healthcheck:`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Healthcheck {
    /// `["CMD", ...]`, `["CMD-SHELL", "..."]` or `["NONE"]`.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "flex::health_test"
    )]
    pub test: Vec<String>,
    /// Time between checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<GoDuration>,
    /// Time a check may take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<GoDuration>,
    /// Failures before unhealthy.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_u64"
    )]
    pub retries: Option<u64>,
    /// Grace period after start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_period: Option<GoDuration>,
    /// Time between checks during the grace period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_interval: Option<GoDuration>,
    /// Disable the image's health check.
    #[serde(
        default,
        skip_serializing_if = "std::ops::Not::not",
        deserialize_with = "flex::bool"
    )]
    pub disable: bool,
}

/// `logging:`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logging {
    /// Log driver.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_string"
    )]
    pub driver: Option<String>,
    /// Driver options.
    #[serde(
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "flex::labels"
    )]
    pub options: IndexMap<String, String>,
}

/// A service's attachment to a network.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceNetwork {
    /// Extra DNS names on this network.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "flex::strings"
    )]
    pub aliases: Vec<String>,
    /// Fixed IPv4 address.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_string"
    )]
    pub ipv4_address: Option<String>,
    /// Fixed IPv6 address.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_string"
    )]
    pub ipv6_address: Option<String>,
    /// Connection order.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_i64"
    )]
    pub priority: Option<i64>,
    /// `x-` extension fields.
    #[serde(flatten)]
    pub extensions: IndexMap<String, serde_json::Value>,
}

/// A ulimit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub struct Ulimit {
    /// Soft limit.
    pub soft: i64,
    /// Hard limit.
    pub hard: i64,
    /// Written as one number (`nproc: 65535`), and printed so.
    #[serde(skip)]
    pub single: bool,
}

impl Serialize for Ulimit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        if self.single && self.soft == self.hard {
            return s.serialize_i64(self.soft);
        }
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("soft", &self.soft)?;
        map.serialize_entry("hard", &self.hard)?;
        map.end()
    }
}

/// A top-level network.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    /// Engine name (`<project>_<key>` unless set).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_string"
    )]
    pub name: Option<String>,
    /// Created outside compose; never created or removed.
    #[serde(
        default,
        skip_serializing_if = "std::ops::Not::not",
        deserialize_with = "flex::external"
    )]
    pub external: bool,
    /// Driver.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_string"
    )]
    pub driver: Option<String>,
    /// Driver options.
    #[serde(
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "flex::labels"
    )]
    pub driver_opts: IndexMap<String, String>,
    /// Standalone containers may attach.
    #[serde(
        default,
        skip_serializing_if = "std::ops::Not::not",
        deserialize_with = "flex::bool"
    )]
    pub attachable: bool,
    /// No outside connectivity.
    #[serde(
        default,
        skip_serializing_if = "std::ops::Not::not",
        deserialize_with = "flex::bool"
    )]
    pub internal: bool,
    /// IPv6.
    #[serde(
        default,
        skip_serializing_if = "std::ops::Not::not",
        deserialize_with = "flex::bool"
    )]
    pub enable_ipv6: bool,
    /// Labels.
    #[serde(
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "flex::labels"
    )]
    pub labels: IndexMap<String, String>,
    /// `x-` extension fields.
    #[serde(flatten)]
    pub extensions: IndexMap<String, serde_json::Value>,
}

/// A top-level volume.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    /// Engine name (`<project>_<key>` unless set).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_string"
    )]
    pub name: Option<String>,
    /// Created outside compose; never created or removed.
    #[serde(
        default,
        skip_serializing_if = "std::ops::Not::not",
        deserialize_with = "flex::external"
    )]
    pub external: bool,
    /// Driver.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex::opt_string"
    )]
    pub driver: Option<String>,
    /// Driver options.
    #[serde(
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "flex::labels"
    )]
    pub driver_opts: IndexMap<String, String>,
    /// Labels.
    #[serde(
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "flex::labels"
    )]
    pub labels: IndexMap<String, String>,
    /// `x-` extension fields.
    #[serde(flatten)]
    pub extensions: IndexMap<String, serde_json::Value>,
}

/// Deserializers that accept every form the Compose Specification allows.
pub mod flex {
    use indexmap::IndexMap;
    use serde::Deserialize;
    use serde::de::{self, Deserializer};
    use serde_json::Value;

    use super::{Build, Dependency, EnvFile, FileReference, ServiceNetwork, Ulimit};
    use crate::limits::MAX_PORTS_PER_SERVICE;
    use crate::ports::{self, PortMapping};
    use crate::volumes::{self, VolumeMount};

    pub(crate) fn yes() -> bool {
        true
    }

    /// A scalar read as text (numbers and booleans stringified, as compose does).
    pub struct Scalar(pub String);

    impl<'de> Deserialize<'de> for Scalar {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            match Value::deserialize(d)? {
                Value::String(s) => Ok(Scalar(s)),
                Value::Number(n) => Ok(Scalar(n.to_string())),
                Value::Bool(b) => Ok(Scalar(b.to_string())),
                other => Err(de::Error::custom(format!(
                    "expected a string, found {}",
                    kind(&other)
                ))),
            }
        }
    }

    fn kind(v: &Value) -> &'static str {
        match v {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "a list",
            Value::Object(_) => "a mapping",
        }
    }

    fn scalar_text(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// A map, or null for an empty one.
    pub fn map_or_null<'de, D, T>(d: D) -> Result<IndexMap<String, T>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de> + Default,
    {
        let m: Option<IndexMap<String, Option<T>>> = Option::deserialize(d)?;
        Ok(m.unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.unwrap_or_default()))
            .collect())
    }

    /// A string (numbers and booleans accepted).
    pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        Ok(Scalar::deserialize(d)?.0)
    }

    /// An optional string (numbers and booleans accepted).
    pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(Option::<Scalar>::deserialize(d)?.map(|s| s.0))
    }

    /// A boolean, also written as a string (`"true"`, after interpolation).
    pub fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        Ok(opt_bool(d)?.unwrap_or(false))
    }

    /// An optional boolean, also written as a string.
    pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        match Option::<Value>::deserialize(d)? {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" | "1" => Ok(Some(true)),
                "false" | "no" | "off" | "0" | "" => Ok(Some(false)),
                _ => Err(de::Error::custom(format!(
                    "expected a boolean, found `{s}`"
                ))),
            },
            Some(other) => Err(de::Error::custom(format!(
                "expected a boolean, found {}",
                kind(&other)
            ))),
        }
    }

    /// `external: true`, or the legacy `external: {name: x}` (read as true).
    pub fn external<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        match Value::deserialize(d)? {
            Value::Object(_) => Ok(true),
            Value::Bool(b) => Ok(b),
            Value::Null => Ok(false),
            Value::String(s) if s == "true" || s == "false" => Ok(s == "true"),
            other => Err(de::Error::custom(format!(
                "expected a boolean, found {}",
                kind(&other)
            ))),
        }
    }

    fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        match Option::<Value>::deserialize(d)? {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| de::Error::custom(format!("expected a number, found `{s}`"))),
            Some(other) => Err(de::Error::custom(format!(
                "expected a number, found {}",
                kind(&other)
            ))),
        }
    }

    /// An optional float, also written as a string.
    pub fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        number(d)
    }

    /// An optional integer, also written as a string.
    pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        match number(d)? {
            None => Ok(None),
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Some(f as i64)),
            Some(f) => Err(de::Error::custom(format!("expected an integer, found {f}"))),
        }
    }

    /// An optional non-negative integer, also written as a string.
    pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        match opt_i64(d)? {
            None => Ok(None),
            Some(i) => u64::try_from(i).map(Some).map_err(|_| {
                de::Error::custom(format!("expected a non-negative integer, found {i}"))
            }),
        }
    }

    /// A byte size: a number, or a string like `64m`, `1g`, `512k`, `100b`.
    pub fn opt_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        match Option::<Value>::deserialize(d)? {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| de::Error::custom("expected a whole number of bytes")),
            Some(Value::String(s)) => parse_bytes(&s).map(Some).map_err(de::Error::custom),
            Some(other) => Err(de::Error::custom(format!(
                "expected a size, found {}",
                kind(&other)
            ))),
        }
    }

    /// Parses `64m`, `1g`, `512kb`, `100`.
    pub fn parse_bytes(text: &str) -> Result<i64, String> {
        let t = text.trim().to_ascii_lowercase();
        let digits = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(digits);
        let n: f64 = num.parse().map_err(|_| format!("invalid size `{text}`"))?;
        let scale: f64 = match unit.trim_end_matches('b') {
            "" => 1.0,
            "k" => 1024.0,
            "m" => 1024.0 * 1024.0,
            "g" => 1024.0 * 1024.0 * 1024.0,
            _ => return Err(format!("invalid size `{text}`: use b, k, m or g")),
        };
        Ok((n * scale) as i64)
    }

    /// A string or a list of strings.
    pub fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(Vec::new()),
            Value::Array(items) => items
                .iter()
                .map(|v| {
                    scalar_text(v).ok_or_else(|| {
                        de::Error::custom(format!("expected a string, found {}", kind(v)))
                    })
                })
                .collect(),
            // `dns: ${UNSET}` is no entry at all, as in compose.
            Value::String(s) if s.is_empty() => Ok(Vec::new()),
            other => scalar_text(&other).map(|s| vec![s]).ok_or_else(|| {
                de::Error::custom(format!(
                    "expected a string or a list, found {}",
                    kind(&other)
                ))
            }),
        }
    }

    /// A command: a list, or a string split like a shell would.
    pub fn command<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(None),
            Value::String(s) => shlex::split(&s)
                .map(Some)
                .ok_or_else(|| de::Error::custom(format!("unbalanced quotes in `{s}`"))),
            Value::Array(items) => items
                .iter()
                .map(|v| {
                    scalar_text(v).ok_or_else(|| {
                        de::Error::custom(format!("expected a string, found {}", kind(v)))
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            other => Err(de::Error::custom(format!(
                "expected a string or a list, found {}",
                kind(&other)
            ))),
        }
    }

    /// `healthcheck.test`: a list, or a string meaning `CMD-SHELL`.
    pub fn health_test<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(Vec::new()),
            Value::String(s) => Ok(vec!["CMD-SHELL".into(), s]),
            Value::Array(items) => {
                let words: Vec<String> = items.iter().filter_map(scalar_text).collect();
                match words.first().map(String::as_str) {
                    Some("CMD" | "CMD-SHELL" | "NONE") => Ok(words),
                    Some(other) => Err(de::Error::custom(format!(
                        "the first word of a health check test must be CMD, CMD-SHELL or NONE, found `{other}`"
                    ))),
                    None => Ok(words),
                }
            }
            other => Err(de::Error::custom(format!(
                "expected a string or a list, found {}",
                kind(&other)
            ))),
        }
    }

    /// `KEY=value` list, or mapping; bare keys and null values are `None`.
    pub fn key_values<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<IndexMap<String, Option<String>>, D::Error> {
        let mut out = IndexMap::new();
        match Value::deserialize(d)? {
            Value::Null => {}
            Value::Array(items) => {
                for item in items {
                    let text = scalar_text(&item).ok_or_else(|| {
                        de::Error::custom(format!("expected `KEY=value`, found {}", kind(&item)))
                    })?;
                    let (k, v) = match text.split_once('=') {
                        Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                        None => (text, None),
                    };
                    check_key(&k)?;
                    out.insert(k, v);
                }
            }
            Value::Object(map) => {
                for (k, v) in map {
                    check_key(&k)?;
                    let v = match &v {
                        Value::Null => None,
                        other => Some(scalar_text(other).ok_or_else(|| {
                            de::Error::custom(format!(
                                "`{k}`: expected a string, found {}",
                                kind(other)
                            ))
                        })?),
                    };
                    out.insert(k, v);
                }
            }
            other => {
                return Err(de::Error::custom(format!(
                    "expected a list or a mapping, found {}",
                    kind(&other)
                )));
            }
        }
        Ok(out)
    }

    fn check_key<E: de::Error>(key: &str) -> Result<(), E> {
        if key.is_empty() {
            return Err(E::custom("empty key"));
        }
        if key.ends_with(char::is_whitespace) || key.starts_with(char::is_whitespace) {
            return Err(E::custom(format!("key `{key}` has surrounding blanks")));
        }
        Ok(())
    }

    /// Labels and sysctls: like [`key_values`], bare keys becoming empty strings.
    pub fn labels<'de, D: Deserializer<'de>>(d: D) -> Result<IndexMap<String, String>, D::Error> {
        Ok(key_values(d)?
            .into_iter()
            .map(|(k, v)| (k, v.unwrap_or_default()))
            .collect())
    }

    /// `extra_hosts` as a list (`host:ip` or `host=ip`) or mapping, normalised to `host:ip`.
    pub fn extra_hosts<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(Vec::new()),
            Value::Object(map) => map
                .iter()
                .flat_map(|(k, v)| match v {
                    // Several addresses for one host.
                    Value::Array(ips) => ips.iter().map(|ip| (k, ip)).collect::<Vec<_>>(),
                    ip => vec![(k, ip)],
                })
                .map(|(k, ip)| {
                    scalar_text(ip)
                        .map(|ip| format!("{k}:{ip}"))
                        .ok_or_else(|| de::Error::custom(format!("`{k}`: expected an address")))
                })
                .collect(),
            Value::Array(items) => items
                .iter()
                .map(|v| {
                    let text =
                        scalar_text(v).ok_or_else(|| de::Error::custom("expected `host:ip`"))?;
                    match text.split_once('=') {
                        Some((h, ip)) => Ok(format!("{h}:{ip}")),
                        None if text.contains(':') => Ok(text),
                        None => Err(de::Error::custom(format!("`{text}` is not `host:ip`"))),
                    }
                })
                .collect(),
            other => Err(de::Error::custom(format!(
                "expected a list or a mapping, found {}",
                kind(&other)
            ))),
        }
    }

    /// `build`: a context string or the long form.
    pub fn build<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Build>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(None),
            Value::String(context) => Ok(Some(Build {
                context,
                ..Build::default()
            })),
            v @ Value::Object(_) => serde_json::from_value(v)
                .map(Some)
                .map_err(de::Error::custom),
            other => Err(de::Error::custom(format!(
                "expected a string or a mapping, found {}",
                kind(&other)
            ))),
        }
    }

    /// `env_file`: a path, a list of paths, or long entries.
    pub fn env_files<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<EnvFile>, D::Error> {
        let items = match Value::deserialize(d)? {
            Value::Null => return Ok(Vec::new()),
            Value::Array(items) => items,
            other => vec![other],
        };
        items
            .into_iter()
            .map(|item| match item {
                Value::String(path) => Ok(EnvFile {
                    path,
                    required: true,
                    format: None,
                }),
                v @ Value::Object(_) => serde_json::from_value(v).map_err(de::Error::custom),
                other => Err(de::Error::custom(format!(
                    "expected a path, found {}",
                    kind(&other)
                ))),
            })
            .collect()
    }

    /// Service `secrets` and `configs`: names or long entries.
    pub fn file_references<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<FileReference>, D::Error> {
        let items: Option<Vec<Value>> = Option::deserialize(d)?;
        items
            .unwrap_or_default()
            .into_iter()
            .map(|item| match item {
                Value::String(source) => Ok(FileReference {
                    source,
                    ..FileReference::default()
                }),
                v @ Value::Object(_) => serde_json::from_value(v).map_err(de::Error::custom),
                other => Err(de::Error::custom(format!(
                    "expected a name or a mapping, found {}",
                    kind(&other)
                ))),
            })
            .collect()
    }

    /// `depends_on`: a list of names, or a mapping with conditions.
    pub fn depends_on<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<IndexMap<String, Dependency>, D::Error> {
        let started = || Dependency {
            condition: super::Condition::ServiceStarted,
            restart: false,
            required: true,
        };
        match Value::deserialize(d)? {
            Value::Null => Ok(IndexMap::new()),
            Value::Array(items) => items
                .iter()
                .map(|v| {
                    scalar_text(v)
                        .map(|n| (n, started()))
                        .ok_or_else(|| de::Error::custom("expected a service name"))
                })
                .collect(),
            Value::Object(map) => map
                .into_iter()
                .map(|(k, v)| match v {
                    Value::Null => Ok((k, started())),
                    v => serde_json::from_value(v)
                        .map(|dep| (k.clone(), dep))
                        .map_err(|e| de::Error::custom(format!("`{k}`: {e}"))),
                })
                .collect(),
            other => Err(de::Error::custom(format!(
                "expected a list or a mapping, found {}",
                kind(&other)
            ))),
        }
    }

    /// Service `networks`: a list of names, or a mapping to options.
    pub fn service_networks<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<IndexMap<String, Option<ServiceNetwork>>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(IndexMap::new()),
            Value::Array(items) => items
                .iter()
                .map(|v| {
                    scalar_text(v)
                        .map(|n| (n, None))
                        .ok_or_else(|| de::Error::custom("expected a network name"))
                })
                .collect(),
            Value::Object(map) => map
                .into_iter()
                .map(|(k, v)| match v {
                    Value::Null => Ok((k, None)),
                    v => serde_json::from_value(v)
                        .map(|n| (k.clone(), Some(n)))
                        .map_err(|e| de::Error::custom(format!("`{k}`: {e}"))),
                })
                .collect(),
            other => Err(de::Error::custom(format!(
                "expected a list or a mapping, found {}",
                kind(&other)
            ))),
        }
    }

    /// `ulimits`: a number (soft = hard) or `{soft, hard}` per name.
    pub fn ulimits<'de, D: Deserializer<'de>>(d: D) -> Result<IndexMap<String, Ulimit>, D::Error> {
        let map: Option<IndexMap<String, Value>> = Option::deserialize(d)?;
        map.unwrap_or_default()
            .into_iter()
            .map(|(k, v)| {
                let single = |n: i64| Ulimit {
                    soft: n,
                    hard: n,
                    single: true,
                };
                let limit = match &v {
                    Value::Number(n) => n.as_i64().map(single),
                    Value::String(s) => s.parse().ok().map(single),
                    Value::Object(_) => serde_json::from_value(v.clone()).ok(),
                    _ => None,
                };
                limit.map(|l| (k.clone(), l)).ok_or_else(|| {
                    de::Error::custom(format!("`{k}`: expected a number or {{soft, hard}}"))
                })
            })
            .collect()
    }

    /// `ports`: short strings or numbers (ranges expanded) and long entries.
    pub fn ports<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PortMapping>, D::Error> {
        // Item by item, so that an error's path names the entry (`ports[2]`).
        d.deserialize_option(PortsVisitor)
    }

    /// Reads the `ports` list entry by entry, refusing to expand past
    /// [`MAX_PORTS_PER_SERVICE`] mappings.
    struct PortsVisitor;

    impl<'de> de::Visitor<'de> for PortsVisitor {
        type Value = Vec<PortMapping>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a sequence")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_seq(self)
        }

        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(PortItem(mappings)) = seq.next_element()? {
                out.extend(mappings);
                if out.len() > MAX_PORTS_PER_SERVICE {
                    return Err(de::Error::custom(format!(
                        "the ports expand to more than {MAX_PORTS_PER_SERVICE} mappings"
                    )));
                }
            }
            Ok(out)
        }
    }

    /// One `ports` entry: a short string or number (a range gives several) or a long entry.
    struct PortItem(Vec<PortMapping>);

    impl<'de> Deserialize<'de> for PortItem {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            port_entry(Value::deserialize(d)?)
                .map(PortItem)
                .map_err(de::Error::custom)
        }
    }

    /// Decodes one `ports` entry: a short string or number (a range gives
    /// several mappings) or a long entry (`published` and `target` may be
    /// strings, as after interpolation).
    pub fn port_entry(item: Value) -> Result<Vec<PortMapping>, String> {
        match item {
            Value::Number(n) => ports::parse_short(&n.to_string()).map_err(|e| e.to_string()),
            Value::String(s) => ports::parse_short(&s).map_err(|e| e.to_string()),
            Value::Object(mut map) => {
                for key in ["published", "target"] {
                    if let Some(v) = map.get_mut(key)
                        && let Some(text) = scalar_text(v)
                    {
                        *v = if key == "target" {
                            Value::from(
                                text.parse::<u16>()
                                    .map_err(|_| format!("invalid containerPort: {text}"))?,
                            )
                        } else {
                            ports::parse_range(&text)
                                .map_err(|_| format!("invalid hostPort: {text}"))?;
                            Value::String(text)
                        };
                    }
                }
                let mut p: PortMapping =
                    serde_json::from_value(Value::Object(map)).map_err(|e| e.to_string())?;
                p.protocol = p.protocol.to_ascii_lowercase();
                if !matches!(p.protocol.as_str(), "tcp" | "udp" | "sctp") {
                    return Err(format!("invalid proto: {}", p.protocol));
                }
                Ok(vec![p])
            }
            other => Err(format!("expected a port, found {}", kind(&other))),
        }
    }

    /// `volumes`: short strings and long entries.
    pub fn volumes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<VolumeMount>, D::Error> {
        // Item by item, so that an error's path names the entry (`volumes[1]`).
        let items: Option<Vec<VolumeItem>> = Option::deserialize(d)?;
        Ok(items.unwrap_or_default().into_iter().map(|i| i.0).collect())
    }

    /// One `volumes` entry, short or long.
    struct VolumeItem(VolumeMount);

    impl<'de> Deserialize<'de> for VolumeItem {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            match Value::deserialize(d)? {
                Value::String(s) => volumes::parse_short(&s)
                    .map(VolumeItem)
                    .map_err(de::Error::custom),
                v @ Value::Object(_) => {
                    let mut m: VolumeMount =
                        serde_json::from_value(v).map_err(de::Error::custom)?;
                    if m.kind == volumes::MountKind::Bind && m.bind.is_none() {
                        m.bind = Some(volumes::BindOptions {
                            create_host_path: true,
                            ..Default::default()
                        });
                    }
                    if !m.target.starts_with('/') {
                        return Err(de::Error::custom(format!(
                            "the container path `{}` must be absolute",
                            m.target
                        )));
                    }
                    Ok(VolumeItem(m))
                }
                other => Err(de::Error::custom(format!(
                    "expected a volume, found {}",
                    kind(&other)
                ))),
            }
        }
    }

    impl Default for super::Dependency {
        fn default() -> Self {
            super::Dependency {
                condition: super::Condition::ServiceStarted,
                restart: false,
                required: true,
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::parse_bytes;

        #[test]
        fn sizes() {
            assert_eq!(parse_bytes("64m"), Ok(64 * 1024 * 1024));
            assert_eq!(parse_bytes("1gb"), Ok(1024 * 1024 * 1024));
            assert_eq!(parse_bytes("100"), Ok(100));
            assert!(parse_bytes("1x").is_err());
        }
    }
}
