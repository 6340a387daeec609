//! Merges overlay trees in order, with the rules docker compose v2 applies.
//!
//! The reference is compose-go's `override` package (merge.go, uniqueness.go):
//! mappings merge recursively, scalars are replaced, sequences are appended,
//! except where a path has its own rule:
//! - `environment`, `labels`, `sysctls`, `annotations`, `build.args`... in list
//!   or map form are merged by key, a later entry replacing an earlier one in place;
//! - `ports` de-duplicate on the exact short string or, in long form, on
//!   `host_ip:published:target/protocol` (never on the container port alone);
//! - `volumes` and `devices` are keyed by container path, `secrets` and
//!   `configs` by target;
//! - `command`, `entrypoint`, `healthcheck.test` are replaced, never appended;
//! - `logging` options merge only when the driver is the same;
//! - `extra_hosts` drops only exact duplicates;
//! - `depends_on` and service `networks` in list form become mappings first.
//!
//! `!reset` drops the inherited value, `!override` replaces it whole.

use crate::location::Location;
use crate::node::{Map, MergeTag, Node, Value};

/// Merges `overlays` into `base`, in order. Tags are consumed: the result has none.
pub fn merge_all(mut base: Node, overlays: impl IntoIterator<Item = Node>) -> Node {
    strip_tags(&mut base);
    for overlay in overlays {
        let mut path = Vec::new();
        merge_node(&mut base, overlay, &mut path);
    }
    base
}

/// Applies the tags of a node that has nothing to merge with: `!reset`
/// children disappear, `!override` is just the value.
pub fn strip_tags(node: &mut Node) {
    node.tag = None;
    match &mut node.value {
        Value::Map(map) => {
            map.retain(|_, n| n.tag != Some(MergeTag::Reset));
            map.iter_mut().for_each(|(_, n)| strip_tags(n));
        }
        Value::Seq(items) => {
            items.retain(|n| n.tag != Some(MergeTag::Reset));
            items.iter_mut().for_each(strip_tags);
        }
        _ => {}
    }
}

/// How values at a path merge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rule {
    /// Mappings merge recursively, sequences append, anything else is replaced.
    Default,
    /// The later value replaces the earlier one.
    Replace,
    /// List or map of `key=value`, merged by key.
    KeyValue,
    /// A sequence whose items are unique by a key.
    Unique(Indexer),
    /// `extra_hosts`: append, dropping exact duplicates.
    ExtraHosts,
    /// `logging`: merge options only for the same driver.
    Logging,
    /// `depends_on`: list form becomes a mapping of conditions, then merge.
    DependsOn,
    /// Service `networks`: list form becomes a mapping, then merge.
    ServiceNetworks,
    /// `build`: string form becomes `{context: ...}`, then merge.
    Build,
    /// `ulimits.<name>`: mappings merge, a number replaces.
    Ulimit,
}

/// What makes two items of a sequence "the same item".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Indexer {
    Port,
    Volume,
    Device,
    Secret,
    Config,
    Scalar,
    EnvFile,
}

fn rule_for(path: &[String]) -> Rule {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    match p.as_slice() {
        ["services", _, "command" | "entrypoint"] => Rule::Replace,
        ["services", _, "healthcheck", "test"] => Rule::Replace,
        [
            "services",
            _,
            "environment" | "labels" | "sysctls" | "annotations",
        ] => Rule::KeyValue,
        [
            "services",
            _,
            "build",
            "args" | "labels" | "additional_contexts",
        ] => Rule::KeyValue,
        ["services", _, "deploy", "labels"] => Rule::KeyValue,
        ["networks" | "volumes", _, "labels"] => Rule::KeyValue,
        ["services", _, "volumes", _, "volume", "labels"] => Rule::KeyValue,
        ["services", _, "extra_hosts"] | ["services", _, "build", "extra_hosts"] => {
            Rule::ExtraHosts
        }
        ["services", _, "logging"] => Rule::Logging,
        ["services", _, "depends_on"] => Rule::DependsOn,
        ["services", _, "networks"] => Rule::ServiceNetworks,
        ["services", _, "build"] => Rule::Build,
        ["services", _, "ulimits", _] => Rule::Ulimit,
        ["services", _, "ports"] => Rule::Unique(Indexer::Port),
        ["services", _, "volumes"] => Rule::Unique(Indexer::Volume),
        ["services", _, "devices"] => Rule::Unique(Indexer::Device),
        ["services", _, "secrets"] => Rule::Unique(Indexer::Secret),
        ["services", _, "configs"] => Rule::Unique(Indexer::Config),
        ["services", _, "env_file"] => Rule::Unique(Indexer::EnvFile),
        [
            "services",
            _,
            "expose" | "cap_add" | "cap_drop" | "dns" | "dns_opt" | "dns_search" | "links"
            | "profiles" | "tmpfs",
        ] => Rule::Unique(Indexer::Scalar),
        ["services", _, "networks", _, "aliases" | "link_local_ips"] => {
            Rule::Unique(Indexer::Scalar)
        }
        ["services", _, "build", "tags" | "platforms"] => Rule::Unique(Indexer::Scalar),
        _ => Rule::Default,
    }
}

fn merge_node(base: &mut Node, mut over: Node, path: &mut Vec<String>) {
    match over.tag {
        Some(MergeTag::Override) => {
            strip_tags(&mut over);
            *base = over;
            return;
        }
        Some(MergeTag::Reset) => {
            // A reset at the root means nothing is inherited.
            strip_tags(&mut over);
            *base = over;
            return;
        }
        None => {}
    }
    match rule_for(path) {
        Rule::Replace => {
            strip_tags(&mut over);
            *base = over;
        }
        Rule::KeyValue => {
            to_key_value_seq(base);
            to_key_value_seq(&mut over);
            merge_unique(base, over, key_of_key_value);
        }
        Rule::Unique(indexer) => merge_unique(base, over, |n| index(indexer, n)),
        Rule::ExtraHosts => {
            to_key_value_seq(base);
            to_key_value_seq(&mut over);
            if let (Value::Seq(items), Value::Seq(new)) = (&mut base.value, over.value) {
                for mut item in new {
                    strip_tags(&mut item);
                    if !items.iter().any(|i| i.value == item.value) {
                        items.push(item);
                    }
                }
            } else {
                // Unreachable after conversion; keep the later value.
            }
        }
        Rule::Logging => {
            let driver = |n: &Node| n.lookup(&["driver"]).and_then(Node::scalar_text);
            match (driver(base), driver(&over)) {
                (Some(a), Some(b)) if a != b => {
                    strip_tags(&mut over);
                    *base = over;
                }
                _ => merge_default(base, over, path),
            }
        }
        Rule::DependsOn => {
            to_map(base, |name, at| depends_on_entry(at).map(|n| (name, n)));
            to_map(&mut over, |name, at| {
                depends_on_entry(at).map(|n| (name, n))
            });
            merge_default(base, over, path);
        }
        Rule::ServiceNetworks => {
            to_map(base, |name, at| {
                Some((name, Node::new(Value::Null, at.clone())))
            });
            to_map(&mut over, |name, at| {
                Some((name, Node::new(Value::Null, at.clone())))
            });
            merge_default(base, over, path);
        }
        Rule::Build => {
            build_to_map(base);
            build_to_map(&mut over);
            merge_default(base, over, path);
        }
        Rule::Ulimit => {
            if base.as_map().is_some() && over.as_map().is_some() {
                merge_default(base, over, path);
            } else {
                strip_tags(&mut over);
                *base = over;
            }
        }
        Rule::Default => merge_default(base, over, path),
    }
}

fn merge_default(base: &mut Node, mut over: Node, path: &mut Vec<String>) {
    match (&mut base.value, over.value) {
        (Value::Map(base_map), Value::Map(over_map)) => merge_map(base_map, over_map, path),
        (Value::Seq(items), Value::Seq(new)) => {
            for mut item in new {
                if item.tag == Some(MergeTag::Reset) {
                    continue;
                }
                strip_tags(&mut item);
                items.push(item);
            }
        }
        (_, value) => {
            over.value = value;
            strip_tags(&mut over);
            *base = over;
        }
    }
}

fn merge_map(base: &mut Map, over: Map, path: &mut Vec<String>) {
    for (key, entry) in over {
        let mut node = entry.node;
        match node.tag {
            Some(MergeTag::Reset) => {
                base.remove(&key);
            }
            Some(MergeTag::Override) => {
                strip_tags(&mut node);
                base.insert(key, entry.key_at, node);
            }
            None => {
                if let Some(existing) = base.get_mut(&key) {
                    path.push(key);
                    merge_node(existing, node, path);
                    path.pop();
                } else {
                    strip_tags(&mut node);
                    base.insert(key, entry.key_at, node);
                }
            }
        }
    }
}

/// Merges two sequences whose items are unique by `key`: a later item with
/// the same key replaces the earlier one in place, new keys are appended.
fn merge_unique(base: &mut Node, mut over: Node, key: impl Fn(&Node) -> String) {
    let Value::Seq(new) = std::mem::replace(&mut over.value, Value::Null) else {
        over.value = Value::Null;
        strip_tags(&mut over);
        *base = over;
        return;
    };
    let Value::Seq(items) = &mut base.value else {
        let mut node = Node {
            value: Value::Seq(Vec::new()),
            at: over.at.clone(),
            tag: None,
        };
        merge_unique(
            &mut node,
            Node {
                value: Value::Seq(new),
                ..over
            },
            key,
        );
        *base = node;
        return;
    };
    dedupe(items, &key);
    for mut item in new {
        if item.tag == Some(MergeTag::Reset) {
            // `!reset` on one entry drops the inherited entry with its key.
            let k = key(&item);
            items.retain(|i| key(i) != k);
            continue;
        }
        strip_tags(&mut item);
        let k = key(&item);
        if let Some(slot) = items.iter_mut().find(|i| key(i) == k) {
            *slot = item;
        } else {
            items.push(item);
        }
    }
}

/// Collapses items with the same key within one sequence, the last one winning in place of the first.
fn dedupe(items: &mut Vec<Node>, key: &impl Fn(&Node) -> String) {
    let mut out: Vec<Node> = Vec::with_capacity(items.len());
    for item in items.drain(..) {
        let k = key(&item);
        if let Some(slot) = out.iter_mut().find(|i| key(i) == k) {
            *slot = item;
        } else {
            out.push(item);
        }
    }
    *items = out;
}

/// Converts a `key: value` mapping to a `key=value` sequence (null values become bare keys).
pub fn to_key_value_seq(node: &mut Node) {
    if let Value::Map(map) = &node.value {
        let items = map
            .entries()
            .map(|(k, e)| {
                let text = match e.node.scalar_text() {
                    Some(v) => format!("{k}={v}"),
                    None => k.clone(),
                };
                Node {
                    value: Value::Str(text),
                    at: e.key_at.clone(),
                    tag: e.node.tag,
                }
            })
            .collect();
        node.value = Value::Seq(items);
    }
}

fn key_of_key_value(node: &Node) -> String {
    let text = node.scalar_text().unwrap_or_default();
    match text.split_once('=') {
        Some((k, _)) => k.to_owned(),
        None => text,
    }
}

fn to_map(node: &mut Node, entry: impl Fn(String, &Location) -> Option<(String, Node)>) {
    if let Value::Seq(items) = &node.value {
        let mut map = Map::new();
        for item in items {
            if let Some(name) = item.scalar_text()
                && let Some((k, v)) = entry(name, &item.at)
            {
                map.insert(k, item.at.clone(), v);
            }
        }
        node.value = Value::Map(map);
    }
}

fn depends_on_entry(at: &Location) -> Option<Node> {
    let mut m = Map::new();
    m.insert(
        "condition".into(),
        at.clone(),
        Node::string("service_started", at.clone()),
    );
    m.insert(
        "required".into(),
        at.clone(),
        Node::new(Value::Bool(true), at.clone()),
    );
    Some(Node::new(Value::Map(m), at.clone()))
}

fn build_to_map(node: &mut Node) {
    if let Value::Str(context) = &node.value {
        let mut m = Map::new();
        m.insert(
            "context".into(),
            node.at.clone(),
            Node::string(context.clone(), node.at.clone()),
        );
        node.value = Value::Map(m);
    }
}

fn index(indexer: Indexer, node: &Node) -> String {
    let field = |name: &str| node.lookup(&[name]).and_then(Node::scalar_text);
    match (indexer, &node.value) {
        (Indexer::Port, Value::Map(_)) => format!(
            "{}:{}:{}/{}",
            field("host_ip").unwrap_or_else(|| "0.0.0.0".into()),
            field("published").unwrap_or_default(),
            field("target").unwrap_or_default(),
            field("protocol").unwrap_or_else(|| "tcp".into()),
        ),
        (Indexer::Volume | Indexer::Device, Value::Map(_)) => field("target").unwrap_or_default(),
        (Indexer::Volume, _) => {
            let text = node.scalar_text().unwrap_or_default();
            crate::volumes::short_target(&text).to_owned()
        }
        (Indexer::Device, _) => {
            let text = node.scalar_text().unwrap_or_default();
            let mut parts = text.split(':');
            let host = parts.next().unwrap_or_default();
            parts.next().unwrap_or(host).to_owned()
        }
        (Indexer::Secret | Indexer::Config, Value::Map(_)) => match field("target") {
            Some(t) => t,
            None => default_mount_target(indexer, &field("source").unwrap_or_default()),
        },
        (Indexer::Secret | Indexer::Config, _) => {
            default_mount_target(indexer, &node.scalar_text().unwrap_or_default())
        }
        (Indexer::EnvFile, Value::Map(_)) => field("path").unwrap_or_default(),
        _ => node.scalar_text().unwrap_or_default(),
    }
}

fn default_mount_target(indexer: Indexer, source: &str) -> String {
    match indexer {
        Indexer::Secret => format!("/run/secrets/{source}"),
        _ => format!("/{source}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::load;

    fn merged(files: &[&str]) -> Node {
        let nodes: Vec<Node> = files
            .iter()
            .enumerate()
            .map(|(i, text)| load(&format!("f{i}.yml"), text).expect("valid yaml"))
            .collect();
        let mut it = nodes.into_iter();
        let first = it.next().expect("one file");
        merge_all(first, it)
    }

    fn strings(node: &Node, path: &[&str]) -> Vec<String> {
        node.lookup(path)
            .and_then(Node::as_seq)
            .map(|s| s.iter().filter_map(Node::scalar_text).collect())
            .unwrap_or_default()
    }

    #[test]
    fn reset_on_one_entry_drops_that_entry_only() {
        let m = merged(&[
            "services:\n  a:\n    environment:\n    - A=1\n    - B=2\n    labels:\n      x: \"1\"\n      y: \"2\"\n",
            "services:\n  a:\n    environment:\n      A: !reset null\n    labels:\n      y: !reset null\n",
        ]);
        assert_eq!(strings(&m, &["services", "a", "environment"]), ["B=2"]);
        assert_eq!(strings(&m, &["services", "a", "labels"]), ["x=1"]);
    }

    #[test]
    fn environment_merges_by_key_in_place_across_forms() {
        let m = merged(&[
            "services:\n  a:\n    environment:\n    - A=1\n    - B\n    - C=3\n",
            "services:\n  a:\n    environment:\n      B: two\n      D:\n",
        ]);
        assert_eq!(
            strings(&m, &["services", "a", "environment"]),
            ["A=1", "B=two", "C=3", "D"]
        );
    }

    #[test]
    fn labels_and_sysctls_merge_by_key() {
        let m = merged(&[
            "services:\n  a:\n    labels: [x=1, y=2]\n    sysctls:\n      net.core.somaxconn: 1\n",
            "services:\n  a:\n    labels: [y=3, z=4]\n    sysctls: [net.core.somaxconn=2, kernel.x=1]\n",
        ]);
        assert_eq!(
            strings(&m, &["services", "a", "labels"]),
            ["x=1", "y=3", "z=4"]
        );
        assert_eq!(
            strings(&m, &["services", "a", "sysctls"]),
            ["net.core.somaxconn=2", "kernel.x=1"]
        );
    }

    #[test]
    fn ports_are_unique_by_whole_mapping_not_container_port() {
        let m = merged(&[
            "services:\n  a:\n    ports: ['8000:8000', {target: 80, published: '8080'}]\n",
            "services:\n  a:\n    ports: ['8000:8000', '9000:8000', {target: 80, published: '8080', protocol: tcp, host_ip: 0.0.0.0}]\n",
        ]);
        let ports = m
            .lookup(&["services", "a", "ports"])
            .and_then(Node::as_seq)
            .expect("ports");
        assert_eq!(ports.len(), 3, "{ports:?}");
        assert_eq!(ports[2].scalar_text().as_deref(), Some("9000:8000"));
    }

    #[test]
    fn volumes_are_keyed_by_container_path() {
        let m = merged(&[
            "services:\n  a:\n    volumes: ['./a:/data', 'logs:/log']\n",
            "services:\n  a:\n    volumes: [{type: bind, source: ./b, target: /data}, './c:/other:ro']\n",
        ]);
        let vols = m
            .lookup(&["services", "a", "volumes"])
            .and_then(Node::as_seq)
            .expect("volumes");
        assert_eq!(vols.len(), 3);
        assert_eq!(
            vols[0].lookup(&["source"]).and_then(Node::as_str),
            Some("./b")
        );
    }

    #[test]
    fn secrets_and_configs_keyed_by_target() {
        let m = merged(&[
            "services:\n  a:\n    secrets: [s1, {source: s2, target: /x}]\n",
            "services:\n  a:\n    secrets: [{source: s3, target: /run/secrets/s1}, {source: s4, target: /x}]\n",
        ]);
        let s = m
            .lookup(&["services", "a", "secrets"])
            .and_then(Node::as_seq)
            .expect("secrets");
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].lookup(&["source"]).and_then(Node::as_str), Some("s3"));
        assert_eq!(s[1].lookup(&["source"]).and_then(Node::as_str), Some("s4"));
    }

    #[test]
    fn command_entrypoint_and_healthcheck_test_replace() {
        let m = merged(&[
            "services:\n  a:\n    command: [a, b]\n    entrypoint: [x]\n    healthcheck: {test: [CMD, a], interval: 5s}\n",
            "services:\n  a:\n    command: [c]\n    entrypoint: y z\n    healthcheck: {test: [CMD, b]}\n",
        ]);
        assert_eq!(strings(&m, &["services", "a", "command"]), ["c"]);
        assert_eq!(
            m.lookup(&["services", "a", "entrypoint"])
                .and_then(Node::as_str),
            Some("y z")
        );
        assert_eq!(
            strings(&m, &["services", "a", "healthcheck", "test"]),
            ["CMD", "b"]
        );
        assert_eq!(
            m.lookup(&["services", "a", "healthcheck", "interval"])
                .and_then(Node::as_str),
            Some("5s")
        );
    }

    #[test]
    fn logging_options_merge_only_for_the_same_driver() {
        let same = merged(&[
            "services:\n  a:\n    logging: {driver: json-file, options: {max-size: 1m}}\n",
            "services:\n  a:\n    logging: {options: {max-file: '3'}}\n",
        ]);
        let opts = same
            .lookup(&["services", "a", "logging", "options"])
            .and_then(Node::as_map)
            .expect("options");
        assert_eq!(opts.len(), 2);
        let other = merged(&[
            "services:\n  a:\n    logging: {driver: json-file, options: {max-size: 1m}}\n",
            "services:\n  a:\n    logging: {driver: journald}\n",
        ]);
        assert!(
            other
                .lookup(&["services", "a", "logging", "options"])
                .is_none()
        );
    }

    #[test]
    fn extra_hosts_drop_only_exact_duplicates() {
        let m = merged(&[
            "services:\n  a:\n    extra_hosts: ['h:1.1.1.1']\n",
            "services:\n  a:\n    extra_hosts: ['h:1.1.1.1', 'h:2.2.2.2']\n",
        ]);
        assert_eq!(
            strings(&m, &["services", "a", "extra_hosts"]),
            ["h:1.1.1.1", "h:2.2.2.2"]
        );
    }

    #[test]
    fn networks_and_depends_on_lists_become_maps() {
        let m = merged(&[
            "services:\n  a:\n    networks: [default]\n    depends_on: [db]\n",
            "services:\n  a:\n    networks: [web]\n    depends_on:\n      cache: {condition: service_healthy}\n",
        ]);
        let nets: Vec<&String> = m
            .lookup(&["services", "a", "networks"])
            .and_then(Node::as_map)
            .expect("map")
            .keys()
            .collect();
        assert_eq!(nets, ["default", "web"]);
        let deps = m
            .lookup(&["services", "a", "depends_on"])
            .and_then(Node::as_map)
            .expect("map");
        assert_eq!(
            deps.get("db")
                .and_then(|d| d.lookup(&["condition"]))
                .and_then(Node::as_str),
            Some("service_started")
        );
        assert_eq!(
            deps.get("cache")
                .and_then(|d| d.lookup(&["condition"]))
                .and_then(Node::as_str),
            Some("service_healthy")
        );
    }

    #[test]
    fn reset_and_override_tags() {
        let m = merged(&[
            "services:\n  a:\n    build: .\n    ports: ['1:1']\n    environment: [A=1, B=2]\n",
            "services:\n  a:\n    build: !reset null\n    ports: !override ['2:2']\n    environment: !override [C=3]\n",
        ]);
        let a = m
            .lookup(&["services", "a"])
            .and_then(Node::as_map)
            .expect("a");
        assert!(!a.contains_key("build"));
        assert_eq!(strings(&m, &["services", "a", "ports"]), ["2:2"]);
        assert_eq!(strings(&m, &["services", "a", "environment"]), ["C=3"]);
        assert!(
            m.lookup(&["services", "a", "ports"])
                .and_then(|n| n.tag)
                .is_none()
        );
    }

    #[test]
    fn reset_through_anchor_and_merge_key() {
        let m = merged(&[
            "services:\n  a:\n    ports: ['1:1']\n    dns: [a]\n",
            "x-r: &r\n  ports: !reset []\nservices:\n  a:\n    <<: *r\n    dns: [b]\n",
        ]);
        let a = m
            .lookup(&["services", "a"])
            .and_then(Node::as_map)
            .expect("a");
        assert!(!a.contains_key("ports"));
        assert_eq!(strings(&m, &["services", "a", "dns"]), ["a", "b"]);
    }

    #[test]
    fn scalars_replace_and_maps_merge_recursively() {
        let m = merged(&[
            "services:\n  a:\n    image: x\n    restart: 'no'\nnetworks:\n  web: {driver: bridge}\n",
            "services:\n  a:\n    image: y\n  b:\n    image: z\nnetworks:\n  web: {external: true}\n",
        ]);
        assert_eq!(
            m.lookup(&["services", "a", "image"]).and_then(Node::as_str),
            Some("y")
        );
        assert_eq!(
            m.lookup(&["services", "b", "image"]).and_then(Node::as_str),
            Some("z")
        );
        assert_eq!(
            m.lookup(&["networks", "web", "driver"])
                .and_then(Node::as_str),
            Some("bridge")
        );
        assert_eq!(
            m.lookup(&["networks", "web", "external"]).map(|n| &n.value),
            Some(&Value::Bool(true))
        );
    }
}
