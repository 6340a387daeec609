//! Merges overlay trees in order, with the rules docker compose v2 applies.
//!
//! The reference is compose-go's `override` package: `merge.go` says how two
//! values at a path merge, `uncity.go` which items of a sequence are "the
//! same" once merged. Mappings merge recursively, scalars are replaced,
//! sequences are appended, except where a path has its own rule:
//! - `command`, `entrypoint`, `healthcheck.test` and each `ulimits` entry are
//!   replaced, never merged;
//! - `environment`, `labels`, `sysctls`, `annotations`, `dns`, `dns_opt`,
//!   `dns_search`, `env_file`, `label_file`, `tmpfs`, `build.args`,
//!   `build.labels`, `build.additional_contexts`, `deploy.labels` and the
//!   labels of networks and volumes take a string, a list or a mapping, and
//!   are turned into one list (`KEY=value` for a mapping entry) and appended;
//! - `extra_hosts` likewise, dropping entries the earlier file already has;
//! - `logging` options merge only when the driver is the same;
//! - `depends_on`, service `networks` and `models` in list form become
//!   mappings first, `build` as a string becomes `{context: ...}`;
//! - `networks.*.ipam.config` entries merge by subnet;
//! - a `null` in a later file keeps the earlier value (except where the
//!   value is replaced).
//!
//! After each file, repeated items of a sequence collapse, the last one
//! taking the place of the first ([`enforce_unicity`]): environment, labels,
//! `dns`... by key, `ports` by the whole mapping, `volumes` and `devices` by
//! container path, `secrets` and `configs` by target, `env_file` by path.
//!
//! `!reset` drops the inherited value (on a mapping entry or an
//! `environment` / `labels` entry, that entry), `!override` replaces it whole.

use std::collections::{HashMap, HashSet};

use crate::location::Location;
use crate::node::{Map, MergeTag, Node, Value};

/// Merges `overlays` into `base`, in order. Tags are consumed: the result has none.
pub fn merge_all(mut base: Node, overlays: impl IntoIterator<Item = Node>) -> Node {
    strip_tags(&mut base);
    enforce_unicity(&mut base);
    for overlay in overlays {
        let mut path = Vec::new();
        merge_node(&mut base, overlay, &mut path);
        enforce_unicity(&mut base);
    }
    base
}

/// Merges trees in order, once all of them were made without error
/// (else every error of every tree); no tree gives an empty mapping.
pub fn merge_results(
    trees: impl IntoIterator<Item = Result<Node, crate::error::Diagnostics>>,
) -> Result<Node, crate::error::Diagnostics> {
    let mut errors = crate::error::Diagnostics::default();
    let mut ok = Vec::new();
    for tree in trees {
        match tree {
            Ok(tree) => ok.push(tree),
            Err(e) => errors.0.extend(e),
        }
    }
    let mut it = ok.into_iter();
    let first = it.next().unwrap_or_else(|| {
        Node::new(
            Value::Map(Map::new()),
            Location::synthetic("(no compose file)"),
        )
    });
    errors.into_result(merge_all(first, it))
}

/// Merges one service definition over another, as `extends` does (the
/// same rules as merging files, at the path of a service).
pub fn extend_service(mut base: Node, over: Node) -> Node {
    strip_tags(&mut base);
    let mut path = vec!["services".to_owned(), String::new()];
    merge_node(&mut base, over, &mut path);
    unicity_at(&mut base, &mut path);
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

/// How values at a path merge (compose-go's `mergeSpecials`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rule {
    /// Mappings merge recursively, sequences append, anything else is replaced.
    Default,
    /// The later value replaces the earlier one.
    Replace,
    /// A string, list or mapping turned into one list, then appended.
    ToSequence,
    /// `extra_hosts`: like [`Rule::ToSequence`], without entries already there.
    ExtraHosts,
    /// `logging`: merge options only for the same driver.
    Logging,
    /// `depends_on`: list form becomes a mapping of conditions, then merge.
    DependsOn,
    /// Service `networks` and `models`: list form becomes a mapping, then merge.
    ToMapping,
    /// `build`: string form becomes `{context: ...}`, then merge.
    Build,
    /// `networks.*.ipam.config`: entries merge by subnet.
    IpamConfig,
}

fn rule_for(path: &[String]) -> Rule {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    match p.as_slice() {
        ["services", _, "command" | "entrypoint"]
        | ["services", _, "healthcheck", "test"]
        | ["services", _, "ulimits", _] => Rule::Replace,
        [
            "services",
            _,
            "environment" | "labels" | "sysctls" | "annotations" | "dns" | "dns_opt" | "dns_search"
            | "env_file" | "label_file" | "tmpfs",
        ]
        | [
            "services",
            _,
            "build",
            "args" | "labels" | "additional_contexts",
        ]
        | ["services", _, "deploy", "labels"]
        | ["services", _, "volumes", _, "volume", "labels"]
        | ["networks" | "volumes", _, "labels"] => Rule::ToSequence,
        ["services", _, "extra_hosts"] | ["services", _, "build", "extra_hosts"] => {
            Rule::ExtraHosts
        }
        ["services", _, "logging"] => Rule::Logging,
        ["services", _, "depends_on"] => Rule::DependsOn,
        ["services", _, "networks" | "models"] => Rule::ToMapping,
        ["services", _, "build"] => Rule::Build,
        ["networks", _, "ipam", "config"] => Rule::IpamConfig,
        _ => Rule::Default,
    }
}

fn merge_node(base: &mut Node, mut over: Node, path: &mut Vec<String>) {
    if matches!(over.tag, Some(MergeTag::Override | MergeTag::Reset)) {
        // `!reset` reaching here is a reset of the whole tree: nothing is inherited.
        strip_tags(&mut over);
        *base = over;
        return;
    }
    match rule_for(path) {
        Rule::Replace => {
            strip_tags(&mut over);
            *base = over;
        }
        Rule::ToSequence => append_keyed(base, over, false),
        Rule::ExtraHosts => append_keyed(base, over, true),
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
            to_map(base, depends_on_entry);
            to_map(&mut over, depends_on_entry);
            merge_default(base, over, path);
        }
        Rule::ToMapping => {
            let null = |at: &Location| Node::new(Value::Null, at.clone());
            to_map(base, null);
            to_map(&mut over, null);
            merge_default(base, over, path);
        }
        Rule::Build => {
            build_to_map(base);
            build_to_map(&mut over);
            merge_default(base, over, path);
        }
        Rule::IpamConfig => merge_ipam_config(base, over),
        Rule::Default => merge_default(base, over, path),
    }
}

fn merge_default(base: &mut Node, mut over: Node, path: &mut Vec<String>) {
    match (&mut base.value, over.value) {
        // compose-go: a null override leaves the earlier value in place.
        (_, Value::Null) => {}
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

/// compose-go's `mergeToSequence` (and `mergeExtraHosts` when `skip_present`):
/// both values become lists, the later one is appended. A `!reset` entry
/// removes the earlier entries with its key instead.
fn append_keyed(base: &mut Node, mut over: Node, skip_present: bool) {
    to_key_value_seq(base);
    to_key_value_seq(&mut over);
    let Value::Seq(new) = over.value else {
        return;
    };
    let Value::Seq(items) = &mut base.value else {
        return;
    };
    let present: HashSet<String> = if skip_present {
        items.iter().filter_map(Node::scalar_text).collect()
    } else {
        HashSet::new()
    };
    for mut item in new {
        if item.tag == Some(MergeTag::Reset) {
            let key = key_of_key_value(&item);
            items.retain(|i| key_of_key_value(i) != key);
            continue;
        }
        if skip_present && item.scalar_text().is_some_and(|t| present.contains(&t)) {
            continue;
        }
        strip_tags(&mut item);
        items.push(item);
    }
}

/// Makes a string, a list or a `key: value` mapping one list, as compose-go's
/// `convertIntoSequence`: a mapping entry is `key=value`, a null value a bare
/// `key`, a list value one `key=item` per item; null is an empty list.
pub fn to_key_value_seq(node: &mut Node) {
    let items = match &node.value {
        Value::Map(map) => map
            .entries()
            .flat_map(|(k, e)| {
                let item = |text: String, at: &Location| Node {
                    value: Value::Str(text),
                    at: at.clone(),
                    tag: e.node.tag,
                };
                match &e.node.value {
                    Value::Seq(values) => values
                        .iter()
                        .map(|v| {
                            item(
                                format!("{k}={}", v.scalar_text().unwrap_or_default()),
                                &v.at,
                            )
                        })
                        .collect::<Vec<_>>(),
                    _ => vec![item(
                        match e.node.scalar_text() {
                            Some(v) => format!("{k}={v}"),
                            None => k.clone(),
                        },
                        &e.key_at,
                    )],
                }
            })
            .collect(),
        Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
            vec![Node::new(node.value.clone(), node.at.clone())]
        }
        Value::Null => Vec::new(),
        Value::Seq(_) => return,
    };
    node.value = Value::Seq(items);
}

fn key_of_key_value(node: &Node) -> String {
    let text = node.scalar_text().unwrap_or_default();
    match text.split_once('=') {
        Some((k, _)) => k.to_owned(),
        None => text,
    }
}

fn to_map(node: &mut Node, entry: impl Fn(&Location) -> Node) {
    match &node.value {
        Value::Seq(items) => {
            let mut map = Map::new();
            for item in items {
                if let Some(name) = item.scalar_text() {
                    map.insert(name, item.at.clone(), entry(&item.at));
                }
            }
            node.value = Value::Map(map);
        }
        Value::Null => node.value = Value::Map(Map::new()),
        _ => {}
    }
}

fn depends_on_entry(at: &Location) -> Node {
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
    Node::new(Value::Map(m), at.clone())
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

/// compose-go's `mergeIPAMConfig`: an entry for a subnet already configured
/// merges into it, others are added.
fn merge_ipam_config(base: &mut Node, mut over: Node) {
    strip_tags(&mut over);
    let (Value::Seq(items), Value::Seq(new)) = (&mut base.value, over.value) else {
        return;
    };
    let subnet = |n: &Node| n.lookup(&["subnet"]).and_then(Node::scalar_text);
    for entry in new {
        match items
            .iter_mut()
            .find(|i| subnet(i).is_some() && subnet(i) == subnet(&entry))
        {
            Some(existing) => merge_default(existing, entry, &mut Vec::new()),
            None => items.push(entry),
        }
    }
}

/// What makes two items of a sequence "the same item" (compose-go's indexers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Indexer {
    KeyValue,
    Port,
    Volume,
    Device,
    Secret,
    Config,
    EnvFile,
    Expose,
}

fn indexer_for(path: &[&str]) -> Option<Indexer> {
    Some(match path {
        ["networks", _, "labels"]
        | [
            "services",
            _,
            "build",
            "args" | "additional_contexts" | "platforms" | "tags" | "labels",
        ]
        | [
            "services",
            _,
            "annotations" | "cap_add" | "cap_drop" | "dns" | "dns_opt" | "dns_search"
            | "environment" | "labels" | "links" | "profiles" | "sysctls" | "tmpfs",
        ]
        | ["services", _, "deploy", "labels"]
        | ["services", _, "networks", _, "aliases" | "link_local_ips"] => Indexer::KeyValue,
        ["services", _, "devices"] => Indexer::Device,
        ["services", _, "volumes"] => Indexer::Volume,
        ["services", _, "configs"] => Indexer::Config,
        ["services", _, "secrets"] => Indexer::Secret,
        ["services", _, "env_file"] => Indexer::EnvFile,
        ["services", _, "expose"] => Indexer::Expose,
        ["services", _, "ports"] => Indexer::Port,
        _ => return None,
    })
}

/// compose-go's `EnforceUnicity`: in the sequences that have an indexer, a
/// later item with the same key replaces the earlier one in its place.
pub fn enforce_unicity(root: &mut Node) {
    // Only the sections that hold indexed sequences.
    let Some(root) = root.as_map_mut() else {
        return;
    };
    for section in ["services", "networks"] {
        if let Some(node) = root.get_mut(section) {
            unicity_at(node, &mut vec![section.to_owned()]);
        }
    }
}

fn unicity_at(node: &mut Node, path: &mut Vec<String>) {
    match &mut node.value {
        Value::Map(map) => {
            for (k, v) in map.iter_mut() {
                path.push(k.clone());
                unicity_at(v, path);
                path.pop();
            }
        }
        Value::Seq(items) => {
            let p: Vec<&str> = path.iter().map(String::as_str).collect();
            if let Some(indexer) = indexer_for(&p) {
                dedupe(items, indexer);
            }
        }
        _ => {}
    }
}

/// Collapses items with the same key, the last one winning in place of the first.
fn dedupe(items: &mut Vec<Node>, indexer: Indexer) {
    let mut out: Vec<Node> = Vec::with_capacity(items.len());
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(items.len());
    for item in items.drain(..) {
        match index(indexer, &item) {
            Some(k) => match seen.get(&k) {
                Some(&i) => out[i] = item,
                None => {
                    seen.insert(k, out.len());
                    out.push(item);
                }
            },
            None => out.push(item),
        }
    }
    *items = out;
}

fn index(indexer: Indexer, node: &Node) -> Option<String> {
    let field = |name: &str| node.lookup(&[name]).and_then(Node::scalar_text);
    let text = node.scalar_text();
    Some(match (indexer, &node.value) {
        (Indexer::Port, Value::Map(_)) => format!(
            "{}:{}:{}/{}",
            field("host_ip").unwrap_or_else(|| "0.0.0.0".into()),
            field("published").unwrap_or_default(),
            field("target").unwrap_or_default(),
            field("protocol").unwrap_or_else(|| "tcp".into()),
        ),
        (Indexer::Volume | Indexer::Device, Value::Map(_)) => field("target")?,
        (Indexer::Volume, _) => crate::volumes::short_target(&text?).to_owned(),
        (Indexer::Device, _) => {
            let text = text?;
            let mut parts = text.split(':');
            let host = parts.next().unwrap_or_default();
            parts.next().unwrap_or(host).to_owned()
        }
        (Indexer::Secret | Indexer::Config, Value::Map(_)) => match field("target") {
            Some(t) => t,
            None => mount_target(indexer, &field("source").unwrap_or_default()),
        },
        (Indexer::Secret | Indexer::Config, _) => mount_target(indexer, &text?),
        (Indexer::EnvFile, Value::Map(_)) => field("path")?,
        (Indexer::KeyValue, _) => {
            let text = text?;
            match text.split_once('=') {
                Some((k, _)) => k.to_owned(),
                None => text,
            }
        }
        _ => text?,
    })
}

fn mount_target(indexer: Indexer, source: &str) -> String {
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

    // The expected results below are compose-go's own merge tests
    // (override/merge_*_test.go) and the specification's merge chapter.

    #[test]
    fn string_or_list_keys_append_across_forms() {
        let m = merged(&[
            "services:\n  a:\n    dns: 8.8.8.8\n    dns_search: a.example\n    tmpfs: /run\n    env_file: a.env\n",
            "services:\n  a:\n    dns: [1.1.1.1, 8.8.8.8]\n    dns_search: [b.example]\n    tmpfs: [/tmp]\n    env_file: [b.env, {path: a.env, required: false}]\n",
        ]);
        assert_eq!(
            strings(&m, &["services", "a", "dns"]),
            ["8.8.8.8", "1.1.1.1"]
        );
        assert_eq!(
            strings(&m, &["services", "a", "dns_search"]),
            ["a.example", "b.example"]
        );
        assert_eq!(strings(&m, &["services", "a", "tmpfs"]), ["/run", "/tmp"]);
        // env_file entries are unique by path: the long entry replaces `a.env` in place.
        let env_files = m
            .lookup(&["services", "a", "env_file"])
            .and_then(Node::as_seq)
            .expect("env_file");
        assert_eq!(env_files.len(), 2);
        assert_eq!(
            env_files[0].lookup(&["required"]).map(|n| &n.value),
            Some(&Value::Bool(false))
        );
        assert_eq!(env_files[1].as_str(), Some("b.env"));
    }

    #[test]
    fn extra_hosts_mapping_with_several_addresses() {
        // compose-go TestMergeExtraHostsMapping.
        let m = merged(&[
            "services:\n  test:\n    image: foo\n    extra_hosts:\n      \"example.com\": \"1.2.3.4\"\n",
            "services:\n  test:\n    extra_hosts:\n      \"localhost\": \"127.0.0.1\"\n      \"example.com\": [\"1.2.3.4\", \"4.3.2.1\"]\n",
        ]);
        assert_eq!(
            strings(&m, &["services", "test", "extra_hosts"]),
            [
                "example.com=1.2.3.4",
                "localhost=127.0.0.1",
                "example.com=4.3.2.1"
            ]
        );
    }

    #[test]
    fn reset_on_one_environment_entry_removes_it() {
        let m = merged(&[
            "services:\n  a:\n    environment:\n      FOO: one\n      BAR: two\n",
            "services:\n  a:\n    environment:\n      FOO: !reset\n      BAZ: three\n",
        ]);
        assert_eq!(
            strings(&m, &["services", "a", "environment"]),
            ["BAR=two", "BAZ=three"]
        );
        let m = merged(&[
            "services:\n  a:\n    labels: [x=1, y=2]\n    networks: [front, back]\n",
            "services:\n  a:\n    labels: {x: !reset null}\n    networks: {back: !reset null}\n",
        ]);
        assert_eq!(strings(&m, &["services", "a", "labels"]), ["y=2"]);
        let nets: Vec<&String> = m
            .lookup(&["services", "a", "networks"])
            .and_then(Node::as_map)
            .expect("networks")
            .keys()
            .collect();
        assert_eq!(nets, ["front"]);
    }

    #[test]
    fn duplicates_in_one_file_collapse_the_last_winning() {
        let m = merged(&[
            "services:\n  a:\n    ports: ['8080:80', '9090:90', '8080:80']\n    volumes: ['./a:/data', 'logs:/log', './b:/data:ro']\n    environment: [A=1, B=2, A=3]\n    cap_add: [NET_ADMIN, NET_ADMIN]\n",
        ]);
        assert_eq!(
            strings(&m, &["services", "a", "ports"]),
            ["8080:80", "9090:90"]
        );
        assert_eq!(
            strings(&m, &["services", "a", "volumes"]),
            ["./b:/data:ro", "logs:/log"]
        );
        assert_eq!(
            strings(&m, &["services", "a", "environment"]),
            ["A=3", "B=2"]
        );
        assert_eq!(strings(&m, &["services", "a", "cap_add"]), ["NET_ADMIN"]);
    }

    #[test]
    fn null_in_a_later_file_keeps_the_earlier_value() {
        // compose-go Test_mergeYamlNullOverrideOfMappingLikeAttribute.
        let m = merged(&[
            "services:\n  test:\n    image: foo\n    networks: [runtime]\n    depends_on: [runtime]\n    command: [run]\n",
            "services:\n  test:\n    networks: null\n    depends_on: null\n    image: null\n    command: null\n",
        ]);
        let test = m
            .lookup(&["services", "test"])
            .and_then(Node::as_map)
            .expect("test");
        assert_eq!(test.get("image").and_then(Node::as_str), Some("foo"));
        assert!(
            test.get("networks")
                .and_then(Node::as_map)
                .is_some_and(|n| n.contains_key("runtime"))
        );
        assert_eq!(
            test.get("depends_on")
                .and_then(|d| d.lookup(&["runtime", "condition"]))
                .and_then(Node::as_str),
            Some("service_started")
        );
        // `command` is replaced, even by null.
        assert_eq!(test.get("command").map(|n| &n.value), Some(&Value::Null));
    }

    #[test]
    fn each_ulimit_is_replaced_whole() {
        // compose-go Test_mergeYamlUlimits.
        let m = merged(&[
            "services:\n  test:\n    ulimits:\n      nofile: {soft: 20000, hard: 40000}\n      nproc: 65535\n      locks: {soft: 20000, hard: 40000}\n",
            "services:\n  test:\n    ulimits:\n      nofile: {soft: 10000, hard: 40000}\n      nproc: {soft: 65535}\n      locks: {hard: 65535}\n",
        ]);
        let locks = m
            .lookup(&["services", "test", "ulimits", "locks"])
            .and_then(Node::as_map)
            .expect("locks");
        assert_eq!(locks.keys().collect::<Vec<_>>(), ["hard"]);
        let nproc = m
            .lookup(&["services", "test", "ulimits", "nproc"])
            .and_then(Node::as_map)
            .expect("nproc");
        assert_eq!(nproc.keys().collect::<Vec<_>>(), ["soft"]);
    }

    #[test]
    fn ipam_config_merges_by_subnet() {
        let m = merged(&[
            "networks:\n  n:\n    ipam:\n      config:\n      - {subnet: 10.0.0.0/24, gateway: 10.0.0.1}\n",
            "networks:\n  n:\n    ipam:\n      config:\n      - {subnet: 10.0.0.0/24, ip_range: 10.0.0.0/28}\n      - {subnet: 10.1.0.0/24}\n",
        ]);
        let config = m
            .lookup(&["networks", "n", "ipam", "config"])
            .and_then(Node::as_seq)
            .expect("config");
        assert_eq!(config.len(), 2);
        assert_eq!(
            config[0].lookup(&["gateway"]).and_then(Node::as_str),
            Some("10.0.0.1")
        );
        assert_eq!(
            config[0].lookup(&["ip_range"]).and_then(Node::as_str),
            Some("10.0.0.0/28")
        );
    }

    #[test]
    fn extends_merges_with_the_same_rules() {
        let base = load(
            "b.yml",
            "image: x\nports: ['80:80']\nenvironment: {A: '1'}\ncommand: [a]\n",
        )
        .expect("yaml");
        let over = load(
            "o.yml",
            "ports: ['80:80', '81:81']\nenvironment: [B=2]\ncommand: [b]\n",
        )
        .expect("yaml");
        let m = extend_service(base, over);
        assert_eq!(strings(&m, &["ports"]), ["80:80", "81:81"]);
        assert_eq!(strings(&m, &["environment"]), ["A=1", "B=2"]);
        assert_eq!(strings(&m, &["command"]), ["b"]);
    }

    #[test]
    fn many_items_dedupe_in_linear_time() {
        // 50,000 distinct ports then the same again: quadratic code would take minutes.
        let ports: String = (0..50_000u32)
            .map(|i| format!("    - '127.0.{}.{}:80:80'\n", i / 250, i % 250))
            .collect();
        let text = format!("services:\n  a:\n    ports:\n{ports}");
        let start = std::time::Instant::now();
        let m = merged(&[&text, &text]);
        assert_eq!(strings(&m, &["services", "a", "ports"]).len(), 50_000);
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            start.elapsed()
        );
    }
}
