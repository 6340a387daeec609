//! Loads a YAML document into a [`Node`] tree with a position on every value.
//!
//! Built on saphyr-parser's event stream: anchors and aliases are resolved
//! (an alias is a copy of its anchor's node, tags included), `<<` merge keys
//! are expanded (explicit keys win over merged ones, earlier merge sources
//! over later ones), compose's `!reset` / `!override` tags are kept on the
//! nodes, and plain scalars are typed as compose's YAML library types them:
//! the YAML 1.2 core schema, with YAML 1.1's leading-zero octals.
//!
//! The work is bounded ([`crate::limits`]): nesting deeper than
//! [`MAX_DEPTH`], or more than [`MAX_NODES`] values once aliases are
//! expanded (a "billion laughs" file), is an error at the line that crosses
//! the bound, found before the copies are made.

use std::collections::HashMap;
use std::sync::Arc;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};

use crate::error::{Diagnostic, Kind};
use crate::limits::{MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES};
use crate::location::Location;
use crate::node::{Map, MergeTag, Node, Value};

/// Parses `text` (named `file` in locations) into a tree; an empty document is `null`.
pub fn load(file: &str, text: &str) -> Result<Node, Diagnostic> {
    let file: Arc<str> = Arc::from(file);
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(Location::new(file, 1, 1), text.len() as u64));
    }
    let mut builder = Builder {
        file: file.clone(),
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        documents: 0,
        nodes: 0,
    };
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| {
            let m = e.marker();
            let at = Location::new(file.clone(), to_u32(m.line()), to_u32(m.col() + 1));
            if e.info() == "recursion limit exceeded" {
                // The parser's own guard against deep flow nesting.
                return too_deep(at);
            }
            Diagnostic::new(Kind::Syntax, at, format!("invalid YAML: {}", e.info()))
        })?;
        builder.event(event, span)?;
    }
    Ok(builder
        .root
        .unwrap_or_else(|| Node::new(Value::Null, Location::new(file, 1, 1))))
}

/// The error for a file over [`MAX_FILE_BYTES`].
pub fn too_large(at: Location, bytes: u64) -> Diagnostic {
    Diagnostic::new(
        Kind::Yaml,
        at,
        format!(
            "the file is {bytes} bytes long, more than the {MAX_FILE_BYTES} a compose file may be"
        ),
    )
    .with_help("split it into several files")
}

fn too_deep(at: Location) -> Diagnostic {
    Diagnostic::new(
        Kind::Yaml,
        at,
        format!("mappings and sequences are nested more than {MAX_DEPTH} levels deep"),
    )
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

struct Builder {
    file: Arc<str>,
    stack: Vec<Frame>,
    /// Anchored nodes, with how many values each holds (what an alias to it copies).
    anchors: HashMap<usize, (Node, usize)>,
    root: Option<Node>,
    documents: usize,
    /// Values made so far, alias copies included.
    nodes: usize,
}

enum Frame {
    Seq {
        items: Vec<Node>,
        at: Location,
        anchor: usize,
        tag: Option<MergeTag>,
        first_node: usize,
    },
    Map(MapFrame),
}

struct MapFrame {
    map: Map,
    at: Location,
    anchor: usize,
    tag: Option<MergeTag>,
    /// The value count when this mapping started (its own node included).
    first_node: usize,
    /// The key read and waiting for its value.
    key: Option<PendingKey>,
    /// Mappings named by `<<`, applied at the end.
    merges: Vec<Node>,
}

enum PendingKey {
    Key(String, Location),
    Merge(Location),
}

impl Builder {
    fn at(&self, span: &Span) -> Location {
        Location::new(
            self.file.clone(),
            to_u32(span.start.line()),
            to_u32(span.start.col() + 1),
        )
    }

    /// Counts `count` more values, refusing to pass [`MAX_NODES`].
    fn count(&mut self, count: usize, at: &Location, alias: bool) -> Result<(), Diagnostic> {
        self.nodes = self.nodes.saturating_add(count);
        if self.nodes <= MAX_NODES {
            return Ok(());
        }
        Err(if alias {
            Diagnostic::new(
                Kind::Yaml,
                at.clone(),
                format!("excessive aliasing: this alias makes the file expand to more than {MAX_NODES} values"),
            )
            .with_help("each alias copies its anchor; nested aliases multiply (\"billion laughs\"): write fewer of them")
        } else {
            Diagnostic::new(
                Kind::Yaml,
                at.clone(),
                format!("the file holds more than {MAX_NODES} values"),
            )
            .with_help("split it into several files")
        })
    }

    /// Refuses a collection nested deeper than [`MAX_DEPTH`].
    fn check_depth(&self, at: &Location) -> Result<(), Diagnostic> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(too_deep(at.clone()));
        }
        Ok(())
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), Diagnostic> {
        match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => Ok(()),
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(Diagnostic::new(
                        Kind::Yaml,
                        self.at(&span),
                        "a compose file holds one YAML document, this is a second one",
                    )
                    .with_help("split the documents into separate overlay files"));
                }
                Ok(())
            }
            Event::Alias(id) => {
                let at = self.at(&span);
                let size = self
                    .anchors
                    .get(&id)
                    .map(|(_, size)| *size)
                    .ok_or_else(|| {
                        Diagnostic::new(
                            Kind::Yaml,
                            at.clone(),
                            "alias to an anchor that is not defined before it",
                        )
                    })?;
                // Counted before the copy is made.
                self.count(size, &at, true)?;
                let node = self.anchors[&id].0.clone();
                // Keep the anchored value but report positions of the alias itself for the top node.
                let node = Node { at, ..node };
                self.add(node, false)
            }
            Event::Scalar(text, style, anchor, tag) => {
                let mut at = self.at(&span);
                if matches!(style, ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted)
                    && span.start.line() == span.end.line()
                {
                    // Point at the content, not the opening quote.
                    at = at.shifted(1);
                }
                self.count(1, &at, false)?;
                let (merge_tag, core) = self.split_tag(tag.as_deref(), &at)?;
                let value = scalar_value(&text, style, core.as_deref(), &at)?;
                let is_merge_key = style == ScalarStyle::Plain
                    && text == "<<"
                    && merge_tag.is_none()
                    && core.is_none();
                let node = Node {
                    value,
                    at,
                    tag: merge_tag,
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, (node.clone(), 1));
                }
                self.add(node, is_merge_key)
            }
            Event::SequenceStart(anchor, tag) => {
                let at = self.at(&span);
                let (tag, _) = self.split_tag(tag.as_deref(), &at)?;
                self.reject_complex_key(&at)?;
                self.check_depth(&at)?;
                self.count(1, &at, false)?;
                self.stack.push(Frame::Seq {
                    items: Vec::new(),
                    at,
                    anchor,
                    tag,
                    first_node: self.nodes,
                });
                Ok(())
            }
            Event::MappingStart(anchor, tag) => {
                let at = self.at(&span);
                let (tag, _) = self.split_tag(tag.as_deref(), &at)?;
                self.reject_complex_key(&at)?;
                self.check_depth(&at)?;
                self.count(1, &at, false)?;
                self.stack.push(Frame::Map(MapFrame {
                    map: Map::new(),
                    at,
                    anchor,
                    tag,
                    first_node: self.nodes,
                    key: None,
                    merges: Vec::new(),
                }));
                Ok(())
            }
            Event::SequenceEnd => match self.stack.pop() {
                Some(Frame::Seq {
                    items,
                    at,
                    anchor,
                    tag,
                    first_node,
                }) => {
                    let node = Node {
                        value: Value::Seq(items),
                        at,
                        tag,
                    };
                    if anchor > 0 {
                        let size = self.nodes - first_node + 1;
                        self.anchors.insert(anchor, (node.clone(), size));
                    }
                    self.add(node, false)
                }
                _ => Err(Diagnostic::new(
                    Kind::Syntax,
                    self.at(&span),
                    "unbalanced sequence end",
                )),
            },
            Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Map(frame)) => {
                    let first_node = frame.first_node;
                    let (node, anchor) = frame.finish()?;
                    if anchor > 0 {
                        let size = self.nodes - first_node + 1;
                        self.anchors.insert(anchor, (node.clone(), size));
                    }
                    self.add(node, false)
                }
                _ => Err(Diagnostic::new(
                    Kind::Syntax,
                    self.at(&span),
                    "unbalanced mapping end",
                )),
            },
        }
    }

    /// Separates compose's merge tags from YAML core tags; any other tag is an error.
    fn split_tag(
        &self,
        tag: Option<&Tag>,
        at: &Location,
    ) -> Result<(Option<MergeTag>, Option<String>), Diagnostic> {
        let Some(tag) = tag else {
            return Ok((None, None));
        };
        if tag.is_yaml_core_schema() {
            return Ok((None, Some(tag.suffix.clone())));
        }
        match (tag.handle.as_str(), tag.suffix.as_str()) {
            ("!", "reset") => Ok((Some(MergeTag::Reset), None)),
            ("!", "override") => Ok((Some(MergeTag::Override), None)),
            _ => Err(
                Diagnostic::new(Kind::Yaml, at.clone(), format!("unknown tag `{tag}`"))
                    .with_help("compose understands `!reset` and `!override`"),
            ),
        }
    }

    fn reject_complex_key(&self, at: &Location) -> Result<(), Diagnostic> {
        if let Some(Frame::Map(frame)) = self.stack.last()
            && frame.key.is_none()
        {
            return Err(Diagnostic::new(
                Kind::Yaml,
                at.clone(),
                "mapping keys must be plain strings, not collections",
            ));
        }
        Ok(())
    }

    fn add(&mut self, node: Node, is_merge_key: bool) -> Result<(), Diagnostic> {
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                Ok(())
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(node);
                Ok(())
            }
            Some(Frame::Map(frame)) => match frame.key.take() {
                None => {
                    if is_merge_key {
                        frame.key = Some(PendingKey::Merge(node.at));
                        return Ok(());
                    }
                    let key = match &node.value {
                        Value::Str(s) => s.clone(),
                        Value::Null => "null".to_owned(),
                        _ => node.scalar_text().ok_or_else(|| {
                            Diagnostic::new(
                                Kind::Yaml,
                                node.at.clone(),
                                "mapping keys must be plain strings, not collections",
                            )
                        })?,
                    };
                    if frame.map.contains_key(&key) {
                        return Err(Diagnostic::new(
                            Kind::Yaml,
                            node.at.clone(),
                            format!("key `{key}` is defined twice in the same mapping"),
                        )
                        .with_help("remove one of them; to change a value from an earlier file, use another overlay"));
                    }
                    frame.key = Some(PendingKey::Key(key, node.at));
                    Ok(())
                }
                Some(PendingKey::Key(key, key_at)) => {
                    frame.map.insert(key, key_at, node);
                    Ok(())
                }
                Some(PendingKey::Merge(at)) => {
                    match node.value {
                        Value::Map(_) => frame.merges.push(node),
                        Value::Seq(items) if items.iter().all(|n| n.as_map().is_some()) => {
                            frame.merges.extend(items)
                        }
                        _ => {
                            return Err(Diagnostic::new(
                                Kind::Yaml,
                                at,
                                "`<<` must name a mapping or a list of mappings",
                            ));
                        }
                    }
                    Ok(())
                }
            },
        }
    }
}

impl MapFrame {
    fn finish(mut self) -> Result<(Node, usize), Diagnostic> {
        if let Some(PendingKey::Key(key, at)) = self.key.take() {
            return Err(Diagnostic::new(
                Kind::Syntax,
                at,
                format!("key `{key}` has no value"),
            ));
        }
        for source in std::mem::take(&mut self.merges) {
            if let Value::Map(source) = source.value {
                for (key, entry) in source {
                    if !self.map.contains_key(&key) {
                        self.map.insert(key, entry.key_at, entry.node);
                    }
                }
            }
        }
        Ok((
            Node {
                value: Value::Map(self.map),
                at: self.at,
                tag: self.tag,
            },
            self.anchor,
        ))
    }
}

/// Types a scalar: quoted and block scalars are strings, plain ones follow the YAML 1.2 core schema.
fn scalar_value(
    text: &str,
    style: ScalarStyle,
    core_tag: Option<&str>,
    at: &Location,
) -> Result<Value, Diagnostic> {
    if let Some(tag) = core_tag {
        let bad = || {
            Diagnostic::new(
                Kind::Type,
                at.clone(),
                format!("`{text}` is not a valid !!{tag}"),
            )
        };
        return match tag {
            "str" => Ok(Value::Str(text.to_owned())),
            "int" => parse_int(text).map(Value::Int).ok_or_else(bad),
            "float" => parse_float(text)
                .or_else(|| parse_int(text).map(|i| i as f64))
                .map(Value::Float)
                .ok_or_else(bad),
            "bool" => parse_bool(text).map(Value::Bool).ok_or_else(bad),
            "null" => Ok(Value::Null),
            _ => Err(Diagnostic::new(
                Kind::Yaml,
                at.clone(),
                format!("unsupported tag `!!{tag}`"),
            )),
        };
    }
    if style != ScalarStyle::Plain {
        return Ok(Value::Str(text.to_owned()));
    }
    Ok(plain_scalar(text))
}

/// The YAML 1.2 core schema resolution of a plain scalar.
pub fn plain_scalar(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        _ => {}
    }
    if let Some(b) = parse_bool(text) {
        return Value::Bool(b);
    }
    if let Some(i) = parse_int(text) {
        return Value::Int(i);
    }
    if let Some(f) = parse_float(text) {
        return Value::Float(f);
    }
    Value::Str(text.to_owned())
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// An integer as compose's YAML library (go-yaml v3) reads one: decimal,
/// `0x`, `0o`, `0b`, and, as YAML 1.1 did, a leading `0` for octal
/// (`mode: 0440` is 288).
fn parse_int(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = if let Some(d) = digits.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = digits.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = digits.strip_prefix("0b") {
        (2, d)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let n = i64::from_str_radix(digits, radix).ok()?;
    Some(if negative { -n } else { n })
}

fn parse_float(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    match unsigned {
        ".inf" | ".Inf" | ".INF" => {
            return Some(if text.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            });
        }
        ".nan" | ".NaN" | ".NAN" if unsigned == text => return Some(f64::NAN),
        _ => {}
    }
    // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    let bytes = unsigned.as_bytes();
    let mut i = 0;
    let int_digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        i += frac_digits;
    } else if int_digits == 0 {
        return None;
    }
    if int_digits == 0 && frac_digits == 0 {
        return None;
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let exp_digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        if exp_digits == 0 {
            return None;
        }
        i += exp_digits;
    }
    if i != bytes.len() {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_ok(text: &str) -> Node {
        match load("t.yml", text) {
            Ok(node) => node,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }

    #[test]
    fn keeps_positions() {
        let root = load_ok("services:\n  django:\n    image: 'betagouv/mrs:master'\n");
        let image = root
            .lookup(&["services", "django", "image"])
            .expect("image");
        assert_eq!(image.as_str(), Some("betagouv/mrs:master"));
        assert_eq!(image.at.to_string(), "t.yml:3:13");
        let key = root
            .lookup(&["services"])
            .and_then(|s| s.as_map())
            .and_then(|m| m.entry("django"))
            .expect("django");
        assert_eq!(key.key_at.to_string(), "t.yml:2:3");
    }

    #[test]
    fn types_plain_scalars_by_the_core_schema() {
        let root = load_ok(
            "a: 1\nb: '1'\nc: true\nd: yes\ne: ~\nf: 1.5\ng: 8000:8000\nh: 0o17\ni: 1e3\nj: 0440\nk: 08\nl: -0x1f\n",
        );
        let m = root.as_map().expect("map");
        assert_eq!(m.get("a").map(|n| &n.value), Some(&Value::Int(1)));
        assert_eq!(m.get("b").map(|n| &n.value), Some(&Value::Str("1".into())));
        assert_eq!(m.get("c").map(|n| &n.value), Some(&Value::Bool(true)));
        assert_eq!(
            m.get("d").map(|n| &n.value),
            Some(&Value::Str("yes".into()))
        );
        assert_eq!(m.get("e").map(|n| &n.value), Some(&Value::Null));
        assert_eq!(m.get("f").map(|n| &n.value), Some(&Value::Float(1.5)));
        assert_eq!(
            m.get("g").map(|n| &n.value),
            Some(&Value::Str("8000:8000".into()))
        );
        assert_eq!(m.get("h").map(|n| &n.value), Some(&Value::Int(15)));
        assert_eq!(m.get("i").map(|n| &n.value), Some(&Value::Float(1000.0)));
        // go-yaml v3 reads a leading zero as octal (a file `mode: 0440`).
        assert_eq!(m.get("j").map(|n| &n.value), Some(&Value::Int(288)));
        assert_eq!(m.get("k").map(|n| &n.value), Some(&Value::Float(8.0)));
        assert_eq!(m.get("l").map(|n| &n.value), Some(&Value::Int(-31)));
    }

    #[test]
    fn resolves_aliases_and_merge_keys() {
        let root = load_ok(
            "x-base: &base\n  image: a\n  restart: always\nservices:\n  one:\n    <<: *base\n    image: b\n  two: *base\n",
        );
        let one = root
            .lookup(&["services", "one"])
            .and_then(Node::as_map)
            .expect("one");
        assert_eq!(one.get("image").and_then(Node::as_str), Some("b"));
        assert_eq!(one.get("restart").and_then(Node::as_str), Some("always"));
        let two = root
            .lookup(&["services", "two", "image"])
            .expect("two.image");
        assert_eq!(two.as_str(), Some("a"));
    }

    #[test]
    fn keeps_merge_tags_through_anchors() {
        let root =
            load_ok("x-r: &r !reset []\nservices:\n  a:\n    ports: *r\n    dns: !override [x]\n");
        assert_eq!(
            root.lookup(&["services", "a", "ports"]).and_then(|n| n.tag),
            Some(MergeTag::Reset)
        );
        assert_eq!(
            root.lookup(&["services", "a", "dns"]).and_then(|n| n.tag),
            Some(MergeTag::Override)
        );
    }

    #[test]
    fn reports_errors_with_positions() {
        let e = load("t.yml", "a:\n  b: [1, 2\n").expect_err("unterminated flow");
        assert_eq!(e.kind, Kind::Syntax);
        assert!(e.at.line >= 2, "{e}");
        let e = load("t.yml", "a: 1\na: 2\n").expect_err("duplicate");
        assert_eq!(e.kind, Kind::Yaml);
        assert_eq!(e.at.to_string(), "t.yml:2:1");
        let e = load("t.yml", "a: !foo 1\n").expect_err("unknown tag");
        assert!(e.message.contains("!foo"), "{e}");
        let e = load("t.yml", "a: *nope\n").expect_err("undefined alias");
        assert_eq!(e.at.line, 1);
        let e = load("t.yml", "a: 1\n---\nb: 2\n").expect_err("two documents");
        assert_eq!(e.kind, Kind::Yaml);
    }

    #[test]
    fn empty_document_is_null() {
        assert_eq!(load_ok("").value, Value::Null);
        assert_eq!(load_ok("# only a comment\n").value, Value::Null);
    }
}
