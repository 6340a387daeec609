//! One overlay file: loaded, checked against the specification, its
//! expressions parsed, and interpolated on its own (as compose does, before
//! merging).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{Diagnostic, Diagnostics, Kind};
use crate::interpolate::{self, Resolve};
use crate::location::Source;
use crate::node::{Node, Value};
use crate::{schema, yaml};

/// A loaded overlay: its source text and positioned tree.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overlay {
    /// The file's name and text.
    pub source: Source,
    /// The parsed tree, before interpolation.
    pub tree: Node,
}

impl Overlay {
    /// Parses and checks `text`, named `name` in every location.
    ///
    /// Reports every unknown or unsupported key and every malformed `${...}`
    /// of the file at once.
    pub fn parse(name: &str, text: &str) -> Result<Overlay, Diagnostics> {
        let tree = yaml::load(name, text)?;
        let tree = match tree.value {
            Value::Null => Node::new(Value::Map(crate::node::Map::new()), tree.at),
            _ => tree,
        };
        let mut errors = Vec::new();
        schema::check(&tree, &mut errors);
        check_expressions(&tree, &mut errors);
        Diagnostics(errors).into_result(Overlay {
            source: Source {
                name: Arc::from(name),
                text: text.to_owned(),
            },
            tree,
        })
    }

    /// Reads and parses a file; `name` is what locations will call it.
    pub fn read(path: &std::path::Path, name: &str) -> Result<Overlay, Diagnostics> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Diagnostic::new(
                Kind::Io,
                crate::location::Location::synthetic(name),
                format!("cannot read {}: {e}", path.display()),
            )
        })?;
        Overlay::parse(name, &text)
    }

    /// The tree with every string value interpolated against `vars`.
    pub fn interpolate(
        &self,
        vars: &dyn Resolve,
        output: interpolate::Output,
    ) -> Result<Node, Diagnostics> {
        let mut tree = self.tree.clone();
        let mut errors = Vec::new();
        interpolate::interpolate_tree(&mut tree, vars, output, &mut errors);
        Diagnostics(errors).into_result(tree)
    }
}

fn check_expressions(node: &Node, errors: &mut Vec<Diagnostic>) {
    match &node.value {
        Value::Str(s) => {
            if let Err(e) = interpolate::parse(s, &node.at) {
                errors.push(e);
            }
        }
        Value::Seq(items) => items.iter().for_each(|n| check_expressions(n, errors)),
        Value::Map(map) => map.iter().for_each(|(_, n)| check_expressions(n, errors)),
        _ => {}
    }
}
