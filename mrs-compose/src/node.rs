//! The positioned YAML tree that overlays are loaded into, merged and interpolated as.
//!
//! Compose merges untyped trees and decodes the result to types (compose-go:
//! load, interpolate each file, merge, normalise, decode). This tree is that
//! untyped stage, with a [`Location`] on every node and key so that any later
//! error can name the file, line and column it is about.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::location::Location;

/// A YAML value with where it was written and its compose merge tag.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// The value itself.
    pub value: Value,
    /// Where the value starts.
    pub at: Location,
    /// `!reset` or `!override`, when the overlay wrote one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<MergeTag>,
}

/// The compose tags that change how a value merges with earlier files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MergeTag {
    /// `!reset`: drop the value inherited from earlier files (and this one).
    Reset,
    /// `!override`: replace the inherited value instead of merging with it.
    Override,
}

/// An untyped YAML value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Value {
    /// `null`, `~` or nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string (quoted, or plain and not another type).
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping with string keys, in the order written.
    Map(Map),
}

/// A mapping entry's value with the location of its key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Where the key was written.
    pub key_at: Location,
    /// The value.
    pub node: Node,
}

/// A mapping with string keys, in the order written.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Map {
    entries: IndexMap<String, Entry>,
}

impl Map {
    /// An empty mapping.
    pub fn new() -> Self {
        Map::default()
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries.get(key).map(|e| &e.node)
    }

    /// The value under `key`, mutably.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.entries.get_mut(key).map(|e| &mut e.node)
    }

    /// The entry (key location and value) under `key`.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.get(key)
    }

    /// Inserts or replaces `key`, keeping its position when it existed.
    pub fn insert(&mut self, key: String, key_at: Location, node: Node) -> Option<Entry> {
        self.entries.insert(key, Entry { key_at, node })
    }

    /// Removes `key`, keeping the order of the others.
    pub fn remove(&mut self, key: &str) -> Option<Entry> {
        self.entries.shift_remove(key)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// Keys and values in order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Node)> {
        self.entries.iter().map(|(k, e)| (k, &e.node))
    }

    /// Keys and entries in order.
    pub fn entries(&self) -> impl Iterator<Item = (&String, &Entry)> {
        self.entries.iter()
    }

    /// Keys and values in order, mutably.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&String, &mut Node)> {
        self.entries.iter_mut().map(|(k, e)| (k, &mut e.node))
    }

    /// Keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.entries.keys()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Keeps the entries for which `keep` returns true.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &Node) -> bool) {
        self.entries.retain(|k, e| keep(k, &e.node));
    }
}

impl IntoIterator for Map {
    type Item = (String, Entry);
    type IntoIter = indexmap::map::IntoIter<String, Entry>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl Node {
    /// A node without a merge tag.
    pub fn new(value: Value, at: Location) -> Self {
        Node {
            value,
            at,
            tag: None,
        }
    }

    /// A string node.
    pub fn string(s: impl Into<String>, at: Location) -> Self {
        Node::new(Value::Str(s.into()), at)
    }

    /// The mapping inside, if this is one.
    pub fn as_map(&self) -> Option<&Map> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The mapping inside, mutably.
    pub fn as_map_mut(&mut self) -> Option<&mut Map> {
        match &mut self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The sequence inside, if this is one.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The string inside, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A scalar rendered as compose renders it in `key=value` strings;
    /// `None` for null, sequences and mappings.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Null | Value::Seq(_) | Value::Map(_) => None,
        }
    }

    /// What kind of value this is, for error messages.
    pub fn kind(&self) -> &'static str {
        self.value.kind()
    }

    /// Follows a path of mapping keys.
    pub fn lookup(&self, path: &[&str]) -> Option<&Node> {
        path.iter()
            .try_fold(self, |node, key| node.as_map()?.get(key))
    }

    /// The deepest node along a path of mapping keys (this node if the first key is missing).
    pub fn closest(&self, path: &[&str]) -> &Node {
        let mut node = self;
        for key in path {
            match node.as_map().and_then(|m| m.get(key)) {
                Some(n) => node = n,
                None => break,
            }
        }
        node
    }

    /// Converts to a JSON value (tags and locations dropped), for typed decoding and output.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or_else(
                || serde_json::Value::String(f.to_string()),
                serde_json::Value::Number,
            ),
            Value::Str(s) => serde_json::Value::String(s.clone()),
            Value::Seq(items) => {
                serde_json::Value::Array(items.iter().map(Node::to_json).collect())
            }
            Value::Map(map) => serde_json::Value::Object(
                map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect(),
            ),
        }
    }

    /// Visits every node, depth first, with its path of keys and indices.
    pub fn walk<'a>(
        &'a self,
        path: &mut Vec<PathItem<'a>>,
        visit: &mut impl FnMut(&[PathItem<'a>], &'a Node),
    ) {
        visit(path, self);
        match &self.value {
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(PathItem::Index(i));
                    item.walk(path, visit);
                    path.pop();
                }
            }
            Value::Map(map) => {
                for (k, v) in map.iter() {
                    path.push(PathItem::Key(k));
                    v.walk(path, visit);
                    path.pop();
                }
            }
            _ => {}
        }
    }
}

/// One step in a path through the tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathItem<'a> {
    /// A mapping key.
    Key(&'a str),
    /// A sequence index.
    Index(usize),
}

/// Renders a path as `services.django.ports[0]`.
pub fn path_string(path: &[PathItem<'_>]) -> String {
    let mut out = String::new();
    for item in path {
        match item {
            PathItem::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            PathItem::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
    out
}

impl Value {
    /// What kind of value this is, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a sequence",
            Value::Map(_) => "a mapping",
        }
    }
}
