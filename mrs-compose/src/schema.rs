//! The keys of the Compose Specification, and which of them mrs-deploy applies.
//!
//! A key outside the specification is an error with a did-you-mean; a key in
//! the specification that mrs-deploy does not apply yet is reported as
//! unsupported rather than silently ignored. Extension keys (`x-...`) are
//! accepted wherever the specification accepts them.

use crate::error::{Diagnostic, Kind, did_you_mean};
use crate::node::{Node, Value};

/// Whether mrs-deploy applies a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// Applied by the engine (or, for `version`, accepted and ignored as compose does).
    Yes,
    /// In the specification, not applied yet.
    No,
}

/// What is under a key.
#[derive(Clone, Copy, Debug)]
pub enum Child {
    /// A value whose type the typed decode checks.
    Leaf,
    /// An object with known keys.
    Object(&'static Object),
    /// A mapping from names to objects (or null).
    MapOf(&'static Object),
    /// A list whose items are strings or objects.
    ListOf(&'static Object),
    /// A list of names, or a mapping from names to objects.
    ListOrMapOf(&'static Object),
}

/// An object kind of the specification and its keys.
#[derive(Debug)]
pub struct Object {
    /// How errors name this object (`service`, `healthcheck`...).
    pub name: &'static str,
    /// Its keys.
    pub keys: &'static [(&'static str, Support, Child)],
    /// Whether `x-` extension keys are allowed.
    pub extensions: bool,
}

impl Object {
    /// The key's entry, if it is in the specification.
    pub fn key(&self, key: &str) -> Option<(Support, Child)> {
        self.keys
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, s, c)| (*s, *c))
    }

    /// Names of the keys mrs-deploy applies, for suggestions.
    pub fn supported_keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.keys
            .iter()
            .filter(|(_, s, _)| *s == Support::Yes)
            .map(|(k, _, _)| *k)
    }
}

use Child::{Leaf, ListOf, ListOrMapOf, MapOf};
use Support::{No, Yes};

/// The top level of a compose file.
pub static PROJECT: Object = Object {
    name: "compose file",
    extensions: true,
    keys: &[
        ("version", Yes, Leaf),
        ("name", Yes, Leaf),
        ("services", Yes, MapOf(&SERVICE)),
        ("networks", Yes, MapOf(&NETWORK)),
        ("volumes", Yes, MapOf(&VOLUME)),
        ("secrets", No, Leaf),
        ("configs", No, Leaf),
        ("include", No, Leaf),
        ("models", No, Leaf),
    ],
};

/// A service.
pub static SERVICE: Object = Object {
    name: "service",
    extensions: true,
    keys: &[
        ("image", Yes, Leaf),
        ("build", Yes, Child::Object(&BUILD)),
        ("command", Yes, Leaf),
        ("entrypoint", Yes, Leaf),
        ("environment", Yes, Leaf),
        ("env_file", Yes, ListOf(&ENV_FILE)),
        ("labels", Yes, Leaf),
        ("ports", Yes, ListOf(&PORT)),
        ("expose", Yes, Leaf),
        ("volumes", Yes, ListOf(&SERVICE_VOLUME)),
        ("networks", Yes, ListOrMapOf(&SERVICE_NETWORK)),
        ("sysctls", Yes, Leaf),
        ("restart", Yes, Leaf),
        ("healthcheck", Yes, Child::Object(&HEALTHCHECK)),
        ("depends_on", Yes, ListOrMapOf(&DEPENDENCY)),
        ("logging", Yes, Child::Object(&LOGGING)),
        ("user", Yes, Leaf),
        ("working_dir", Yes, Leaf),
        ("ulimits", Yes, MapOf(&ULIMIT)),
        ("extra_hosts", Yes, Leaf),
        ("container_name", Yes, Leaf),
        ("hostname", Yes, Leaf),
        ("domainname", Yes, Leaf),
        ("stop_grace_period", Yes, Leaf),
        ("stop_signal", Yes, Leaf),
        ("tty", Yes, Leaf),
        ("stdin_open", Yes, Leaf),
        ("read_only", Yes, Leaf),
        ("cap_add", Yes, Leaf),
        ("cap_drop", Yes, Leaf),
        ("dns", Yes, Leaf),
        ("dns_search", Yes, Leaf),
        ("dns_opt", Yes, Leaf),
        ("privileged", Yes, Leaf),
        ("init", Yes, Leaf),
        ("tmpfs", Yes, Leaf),
        ("shm_size", Yes, Leaf),
        ("security_opt", Yes, Leaf),
        ("mem_limit", Yes, Leaf),
        ("cpus", Yes, Leaf),
        ("pids_limit", Yes, Leaf),
        ("pull_policy", Yes, Leaf),
        ("annotations", No, Leaf),
        ("attach", No, Leaf),
        ("blkio_config", No, Leaf),
        ("cgroup", No, Leaf),
        ("cgroup_parent", No, Leaf),
        ("configs", No, Leaf),
        ("cpu_count", No, Leaf),
        ("cpu_percent", No, Leaf),
        ("cpu_period", No, Leaf),
        ("cpu_quota", No, Leaf),
        ("cpu_rt_period", No, Leaf),
        ("cpu_rt_runtime", No, Leaf),
        ("cpu_shares", No, Leaf),
        ("cpuset", No, Leaf),
        ("credential_spec", No, Leaf),
        ("deploy", No, Leaf),
        ("develop", No, Leaf),
        ("device_cgroup_rules", No, Leaf),
        ("devices", No, Leaf),
        ("driver_opts", No, Leaf),
        ("extends", No, Leaf),
        ("external_links", No, Leaf),
        ("gpus", No, Leaf),
        ("group_add", No, Leaf),
        ("ipc", No, Leaf),
        ("isolation", No, Leaf),
        ("label_file", No, Leaf),
        ("links", No, Leaf),
        ("mac_address", No, Leaf),
        ("mem_reservation", No, Leaf),
        ("mem_swappiness", No, Leaf),
        ("memswap_limit", No, Leaf),
        ("models", No, Leaf),
        ("network_mode", No, Leaf),
        ("oom_kill_disable", No, Leaf),
        ("oom_score_adj", No, Leaf),
        ("pid", No, Leaf),
        ("platform", No, Leaf),
        ("post_start", No, Leaf),
        ("pre_stop", No, Leaf),
        ("profiles", No, Leaf),
        ("provider", No, Leaf),
        ("pull_refresh_after", No, Leaf),
        ("runtime", No, Leaf),
        ("scale", No, Leaf),
        ("secrets", No, Leaf),
        ("storage_opt", No, Leaf),
        ("use_api_socket", No, Leaf),
        ("userns_mode", No, Leaf),
        ("uts", No, Leaf),
        ("volumes_from", No, Leaf),
    ],
};

/// `build:` (accepted; nothing is built on a server).
pub static BUILD: Object = Object {
    name: "build",
    extensions: true,
    keys: &[
        ("context", Yes, Leaf),
        ("dockerfile", Yes, Leaf),
        ("dockerfile_inline", Yes, Leaf),
        ("args", Yes, Leaf),
        ("ssh", Yes, Leaf),
        ("cache_from", Yes, Leaf),
        ("cache_to", Yes, Leaf),
        ("additional_contexts", Yes, Leaf),
        ("entitlements", Yes, Leaf),
        ("extra_hosts", Yes, Leaf),
        ("isolation", Yes, Leaf),
        ("labels", Yes, Leaf),
        ("network", Yes, Leaf),
        ("no_cache", Yes, Leaf),
        ("platforms", Yes, Leaf),
        ("privileged", Yes, Leaf),
        ("pull", Yes, Leaf),
        ("secrets", Yes, Leaf),
        ("shm_size", Yes, Leaf),
        ("tags", Yes, Leaf),
        ("target", Yes, Leaf),
        ("ulimits", Yes, Leaf),
        ("provenance", Yes, Leaf),
        ("sbom", Yes, Leaf),
    ],
};

/// `healthcheck:`.
pub static HEALTHCHECK: Object = Object {
    name: "healthcheck",
    extensions: false,
    keys: &[
        ("test", Yes, Leaf),
        ("interval", Yes, Leaf),
        ("timeout", Yes, Leaf),
        ("retries", Yes, Leaf),
        ("start_period", Yes, Leaf),
        ("start_interval", Yes, Leaf),
        ("disable", Yes, Leaf),
    ],
};

/// `logging:`.
pub static LOGGING: Object = Object {
    name: "logging",
    extensions: false,
    keys: &[("driver", Yes, Leaf), ("options", Yes, Leaf)],
};

/// A `depends_on` entry in long form.
pub static DEPENDENCY: Object = Object {
    name: "depends_on entry",
    extensions: false,
    keys: &[
        ("condition", Yes, Leaf),
        ("restart", Yes, Leaf),
        ("required", Yes, Leaf),
    ],
};

/// A port in long form.
pub static PORT: Object = Object {
    name: "port",
    extensions: true,
    keys: &[
        ("target", Yes, Leaf),
        ("published", Yes, Leaf),
        ("host_ip", Yes, Leaf),
        ("protocol", Yes, Leaf),
        ("mode", Yes, Leaf),
        ("name", Yes, Leaf),
        ("app_protocol", Yes, Leaf),
    ],
};

/// An `env_file` entry in long form.
pub static ENV_FILE: Object = Object {
    name: "env_file entry",
    extensions: false,
    keys: &[
        ("path", Yes, Leaf),
        ("required", Yes, Leaf),
        ("format", No, Leaf),
    ],
};

/// A service volume in long form.
pub static SERVICE_VOLUME: Object = Object {
    name: "service volume",
    extensions: true,
    keys: &[
        ("type", Yes, Leaf),
        ("source", Yes, Leaf),
        ("target", Yes, Leaf),
        ("read_only", Yes, Leaf),
        ("bind", Yes, Child::Object(&BIND)),
        ("volume", Yes, Child::Object(&VOLUME_OPTIONS)),
        ("tmpfs", No, Leaf),
        ("image", No, Leaf),
        ("consistency", Yes, Leaf),
    ],
};

/// `bind:` options of a service volume.
pub static BIND: Object = Object {
    name: "bind options",
    extensions: false,
    keys: &[
        ("create_host_path", Yes, Leaf),
        ("propagation", Yes, Leaf),
        ("selinux", Yes, Leaf),
        ("recursive", No, Leaf),
    ],
};

/// `volume:` options of a service volume.
pub static VOLUME_OPTIONS: Object = Object {
    name: "volume options",
    extensions: false,
    keys: &[
        ("nocopy", Yes, Leaf),
        ("subpath", No, Leaf),
        ("labels", No, Leaf),
    ],
};

/// A service's attachment to a network.
pub static SERVICE_NETWORK: Object = Object {
    name: "service network",
    extensions: true,
    keys: &[
        ("aliases", Yes, Leaf),
        ("ipv4_address", Yes, Leaf),
        ("ipv6_address", Yes, Leaf),
        ("priority", Yes, Leaf),
        ("link_local_ips", No, Leaf),
        ("mac_address", No, Leaf),
        ("driver_opts", No, Leaf),
        ("gw_priority", No, Leaf),
        ("interface_name", No, Leaf),
    ],
};

/// A `ulimits` entry in long form.
pub static ULIMIT: Object = Object {
    name: "ulimit",
    extensions: false,
    keys: &[("soft", Yes, Leaf), ("hard", Yes, Leaf)],
};

/// A top-level network.
pub static NETWORK: Object = Object {
    name: "network",
    extensions: true,
    keys: &[
        ("name", Yes, Leaf),
        ("external", Yes, Leaf),
        ("driver", Yes, Leaf),
        ("driver_opts", Yes, Leaf),
        ("attachable", Yes, Leaf),
        ("internal", Yes, Leaf),
        ("labels", Yes, Leaf),
        ("enable_ipv6", Yes, Leaf),
        ("enable_ipv4", No, Leaf),
        ("ipam", No, Leaf),
    ],
};

/// A top-level volume.
pub static VOLUME: Object = Object {
    name: "volume",
    extensions: true,
    keys: &[
        ("name", Yes, Leaf),
        ("external", Yes, Leaf),
        ("driver", Yes, Leaf),
        ("driver_opts", Yes, Leaf),
        ("labels", Yes, Leaf),
    ],
};

/// Checks every key of a compose file against the specification.
pub fn check(root: &Node, errors: &mut Vec<Diagnostic>) {
    match &root.value {
        Value::Map(_) => check_object(root, &PROJECT, "", errors),
        Value::Null => {}
        _ => errors.push(Diagnostic::new(
            Kind::Type,
            root.at.clone(),
            format!("a compose file must be a mapping, found {}", root.kind()),
        )),
    }
}

fn check_object(node: &Node, object: &'static Object, path: &str, errors: &mut Vec<Diagnostic>) {
    let Value::Map(map) = &node.value else {
        if !matches!(node.value, Value::Null) {
            errors.push(Diagnostic::new(
                Kind::Type,
                node.at.clone(),
                format!(
                    "{} `{path}` must be a mapping, found {}",
                    object.name,
                    node.kind()
                ),
            ));
        }
        return;
    };
    for (key, entry) in map.entries() {
        let here = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        if key.starts_with("x-") && object.extensions {
            continue;
        }
        match object.key(key) {
            None => {
                let mut d = Diagnostic::new(
                    Kind::UnknownKey,
                    entry.key_at.clone(),
                    format!("`{key}` is not a {} key of the Compose Specification", object.name),
                );
                if let Some(s) = did_you_mean(key, object.keys.iter().map(|(k, _, _)| *k)) {
                    d = d.with_help(format!("did you mean `{s}`?"));
                } else if object.extensions {
                    d = d.with_help("extension fields start with `x-`");
                }
                errors.push(d);
            }
            Some((Support::No, _)) => errors.push(
                Diagnostic::new(
                    Kind::Unsupported,
                    entry.key_at.clone(),
                    format!("`{here}`: the {} key `{key}` is in the Compose Specification, but mrs-deploy does not apply it yet", object.name),
                )
                .with_help("remove it, or open an issue so mrs-deploy learns it"),
            ),
            Some((Support::Yes, child)) => check_child(&entry.node, child, &here, errors),
        }
    }
}

fn check_child(node: &Node, child: Child, path: &str, errors: &mut Vec<Diagnostic>) {
    match child {
        Leaf => {}
        Child::Object(object) => {
            if node.as_map().is_some() {
                check_object(node, object, path, errors);
            }
        }
        MapOf(object) => match &node.value {
            Value::Map(map) => {
                for (name, value) in map.iter() {
                    if name.starts_with("x-") && std::ptr::eq(object, &SERVICE) {
                        continue;
                    }
                    check_object(value, object, &format!("{path}.{name}"), errors);
                }
            }
            Value::Null => {}
            _ => errors.push(Diagnostic::new(
                Kind::Type,
                node.at.clone(),
                format!(
                    "`{path}` must be a mapping of names to {}s, found {}",
                    object.name,
                    node.kind()
                ),
            )),
        },
        ListOf(object) => {
            if let Value::Seq(items) = &node.value {
                for (i, item) in items.iter().enumerate() {
                    if item.as_map().is_some() {
                        check_object(item, object, &format!("{path}[{i}]"), errors);
                    }
                }
            }
        }
        ListOrMapOf(object) => {
            if let Value::Map(map) = &node.value {
                for (name, value) in map.iter() {
                    check_object(value, object, &format!("{path}.{name}"), errors);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::load;

    fn errors(text: &str) -> Vec<Diagnostic> {
        let root = load("c.yml", text).expect("yaml");
        let mut errors = Vec::new();
        check(&root, &mut errors);
        errors
    }

    #[test]
    fn unknown_keys_get_a_suggestion_and_a_position() {
        let e = errors("services:\n  django:\n    enviroment: [A=1]\n");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].kind, Kind::UnknownKey);
        assert_eq!(e[0].at.to_string(), "c.yml:3:5");
        assert_eq!(e[0].help.as_deref(), Some("did you mean `environment`?"));
        let e = errors("servics: {}\n");
        assert_eq!(e[0].help.as_deref(), Some("did you mean `services`?"));
    }

    #[test]
    fn unsupported_keys_are_reported_not_ignored() {
        let e = errors(
            "services:\n  a:\n    image: x\n    deploy: {replicas: 2}\n    healthcheck: {test: [CMD], interval: 1s}\n",
        );
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].kind, Kind::Unsupported);
        assert!(
            e[0].message.contains("`services.a.deploy`"),
            "{}",
            e[0].message
        );
    }

    #[test]
    fn nested_objects_are_checked() {
        let e = errors(
            "services:\n  a:\n    healthcheck: {tset: x}\n    depends_on: {b: {conditon: service_started}}\n    ports: [{target: 80, publish: 8080}]\n",
        );
        let kinds: Vec<_> = e
            .iter()
            .map(|d| d.help.clone().unwrap_or_default())
            .collect();
        assert_eq!(
            kinds,
            [
                "did you mean `test`?",
                "did you mean `condition`?",
                "did you mean `published`?"
            ]
        );
    }

    #[test]
    fn extensions_are_allowed() {
        assert!(
            errors("x-mrs: {a: 1}\nservices:\n  a:\n    x-note: hi\n    image: x\n").is_empty()
        );
    }

    #[test]
    fn a_file_must_be_a_mapping() {
        let e = errors("- a\n");
        assert_eq!(e[0].kind, Kind::Type);
    }
}
