//! An environment's variables: where each value comes from ([`VarSource`]),
//! what depends on what ([`VarGraph`]: cycles, the inputs of a value, what a
//! secret taints), and their evaluation ([`VarTable`]: each variable once, in
//! dependency order, never one in a cycle, never a value longer than
//! [`MAX_VALUE_LEN`]). The macro, the build script and the binaries all use
//! these, so the dependency walk exists once.

use std::collections::{HashMap, HashSet};

use indexmap::{IndexMap, IndexSet};
use serde::{Deserialize, Serialize};

use mrs_compose::interpolate::{self, Binding, Evaluated, Resolve};
use mrs_compose::{Location, project_name};

/// Where a variable's value comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VarSource {
    /// Written in the environment's source.
    Literal(String),
    /// Read at run time, never shown.
    Secret,
    /// Read at run time.
    Input {
        /// What to give, shown when it is missing.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        help: Option<String>,
    },
    /// Computed from another variable.
    Derived {
        /// The function.
        function: Derivation,
        /// The variable it is computed from.
        from: String,
    },
    /// A template of other variables (`${BRANCH_SLUG}.review.example`).
    Template(String),
    /// Deliberately unset.
    Unset,
}

impl VarSource {
    /// The variables this value is computed from, each once.
    pub fn deps(&self) -> Vec<String> {
        match self {
            VarSource::Derived { from, .. } => vec![from.clone()],
            VarSource::Template(t) => interpolate::variable_names(t),
            _ => Vec::new(),
        }
    }
}

/// Functions that derive one variable from another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Derivation {
    /// Lowercase letters and digits, other runs as `-`.
    Slug,
}

impl Derivation {
    /// The DSL name.
    pub fn name(self) -> &'static str {
        match self {
            Derivation::Slug => "slug",
        }
    }

    /// Applies the function.
    pub fn apply(self, input: &str) -> String {
        match self {
            Derivation::Slug => project_name::slug(input),
        }
    }
}

/// The longest value a variable may compute to. Each `format` can double a
/// value; without a bound, a chain of twenty of them would not fit in memory.
pub const MAX_VALUE_LEN: usize = 64 * 1024;

/// What depends on what among declared variables.
#[derive(Clone, Debug, Default)]
pub struct VarGraph {
    /// Direct dependencies on declared variables, by variable, in declaration order.
    deps: IndexMap<String, Vec<String>>,
    /// Variables outside any cycle, each after the variables it depends on.
    order: Vec<String>,
    /// Every cycle, each as a path from its first-declared member back to it.
    cycles: Vec<Vec<String>>,
}

impl VarGraph {
    /// The graph of `vars`.
    pub fn new(vars: &IndexMap<String, VarSource>) -> VarGraph {
        let deps: IndexMap<String, Vec<String>> = vars
            .iter()
            .map(|(name, source)| {
                let d = source
                    .deps()
                    .into_iter()
                    .filter(|d| vars.contains_key(d))
                    .collect();
                (name.clone(), d)
            })
            .collect();
        let mut graph = VarGraph {
            deps,
            order: Vec::new(),
            cycles: Vec::new(),
        };
        for component in graph.components() {
            let cyclic = component.len() > 1 || graph.deps[&component[0]].contains(&component[0]);
            if cyclic {
                graph.cycles.push(graph.cycle_path(&component));
            } else {
                graph.order.push(component[0].clone());
            }
        }
        graph
            .cycles
            .sort_by_key(|c| graph.deps.get_index_of(&c[0]).unwrap_or(usize::MAX));
        graph
    }

    /// The declared variables `name` is directly computed from.
    pub fn deps(&self, name: &str) -> &[String] {
        self.deps.get(name).map_or(&[], Vec::as_slice)
    }

    /// Every cycle, each a path `A -> B -> A` starting at its first-declared member.
    pub fn cycles(&self) -> &[Vec<String>] {
        &self.cycles
    }

    /// Whether `name` is part of a cycle (it has no value).
    pub fn in_cycle(&self, name: &str) -> bool {
        self.cycles.iter().any(|c| c.iter().any(|n| n == name))
    }

    /// `roots` and every declared variable they are computed from, transitively.
    pub fn inputs_of<'a>(&self, roots: impl IntoIterator<Item = &'a str>) -> IndexSet<String> {
        let mut seen: IndexSet<String> = IndexSet::new();
        let mut todo: Vec<String> = roots.into_iter().map(str::to_owned).collect();
        while let Some(name) = todo.pop() {
            if seen.insert(name.clone()) {
                todo.extend(self.deps(&name).iter().cloned());
            }
        }
        seen
    }

    /// The declared variables computed (transitively) from one for which
    /// `is_source` holds, those included: what a secret taints.
    pub fn derived_from(&self, is_source: impl Fn(&str) -> bool) -> IndexSet<String> {
        let mut dependents: HashMap<&str, Vec<&str>> = HashMap::new();
        for (name, deps) in &self.deps {
            for d in deps {
                dependents
                    .entry(d.as_str())
                    .or_default()
                    .push(name.as_str());
            }
        }
        let mut out: IndexSet<String> = IndexSet::new();
        let mut todo: Vec<&str> = self
            .deps
            .keys()
            .map(String::as_str)
            .filter(|n| is_source(n))
            .collect();
        while let Some(name) = todo.pop() {
            if out.insert(name.to_owned()) {
                todo.extend(dependents.get(name).into_iter().flatten().copied());
            }
        }
        out.sort_by_cached_key(|n| self.deps.get_index_of(n));
        out
    }

    /// Strongly connected components (Tarjan, iterative), each after those it depends on.
    fn components(&self) -> Vec<Vec<String>> {
        let n = self.deps.len();
        let edges: Vec<Vec<usize>> = self
            .deps
            .values()
            .map(|d| d.iter().filter_map(|x| self.deps.get_index_of(x)).collect())
            .collect();
        let mut index = vec![usize::MAX; n];
        let mut low = vec![0; n];
        let mut on_stack = vec![false; n];
        let mut stack = Vec::new();
        let mut next = 0;
        let mut out = Vec::new();
        for root in 0..n {
            if index[root] != usize::MAX {
                continue;
            }
            // (node, next edge to visit)
            let mut work = vec![(root, 0)];
            while let Some(&mut (v, ref mut edge)) = work.last_mut() {
                if *edge == 0 && index[v] == usize::MAX {
                    index[v] = next;
                    low[v] = next;
                    next += 1;
                    stack.push(v);
                    on_stack[v] = true;
                }
                if let Some(&w) = edges[v].get(*edge) {
                    *edge += 1;
                    if index[w] == usize::MAX {
                        work.push((w, 0));
                    } else if on_stack[w] {
                        low[v] = low[v].min(index[w]);
                    }
                    continue;
                }
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut component = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        component.push(w);
                        if w == v {
                            break;
                        }
                    }
                    component.sort_unstable();
                    out.push(
                        component
                            .into_iter()
                            .filter_map(|i| self.deps.get_index(i).map(|(k, _)| k.clone()))
                            .collect(),
                    );
                }
            }
        }
        out
    }

    /// A shortest path from the first member of a cyclic component back to itself.
    fn cycle_path(&self, component: &[String]) -> Vec<String> {
        let start = &component[0];
        let inside: HashSet<&String> = component.iter().collect();
        let mut came_from: HashMap<&String, &String> = HashMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        while let Some(v) = queue.pop_front() {
            for w in self.deps(v) {
                if w == start {
                    let mut path = vec![start.clone()];
                    let mut at = v;
                    let mut back = Vec::new();
                    while at != start {
                        back.push(at.clone());
                        at = came_from[at];
                    }
                    path.extend(back.into_iter().rev());
                    path.push(start.clone());
                    return path;
                }
                if inside.contains(w) && !came_from.contains_key(w) && w != start {
                    came_from.insert(w, v);
                    queue.push_back(w);
                }
            }
        }
        vec![start.clone(), start.clone()]
    }
}

/// Every variable's binding, computed once: literals, derivations and
/// templates from each other; inputs and secrets from `given`, or deferred
/// when `given` is `None` (at compile time). Variables in a cycle, and values
/// longer than [`MAX_VALUE_LEN`], are unset (rules report them).
pub struct VarTable {
    graph: VarGraph,
    values: IndexMap<String, Binding>,
    too_long: Vec<String>,
}

impl VarTable {
    /// Evaluates `vars` with run-time values `given` (`None` at compile time).
    pub fn new(
        vars: &IndexMap<String, VarSource>,
        given: Option<&IndexMap<String, String>>,
    ) -> VarTable {
        let graph = VarGraph::new(vars);
        let mut table = VarTable {
            values: IndexMap::with_capacity(vars.len()),
            too_long: Vec::new(),
            graph: VarGraph::default(),
        };
        for name in &graph.order {
            let binding = match &vars[name] {
                VarSource::Unset => Binding::Unset,
                VarSource::Literal(v) => Binding::Set(v.clone()),
                VarSource::Secret | VarSource::Input { .. } => match given {
                    None => Binding::Deferred,
                    Some(given) => given
                        .get(name)
                        .map_or(Binding::Unset, |v| Binding::Set(v.clone())),
                },
                VarSource::Derived { function, from } => match table.resolve(from) {
                    Binding::Set(v) => Binding::Set(function.apply(&v)),
                    other => other,
                },
                VarSource::Template(template) => table.evaluate(name, template),
            };
            let binding = match binding {
                Binding::Set(v) if v.len() > MAX_VALUE_LEN => {
                    table.too_long.push(name.clone());
                    Binding::Unset
                }
                other => other,
            };
            table.values.insert(name.clone(), binding);
        }
        table.graph = graph;
        table
    }

    fn evaluate(&self, name: &str, template: &str) -> Binding {
        let at = Location::synthetic(name);
        let Ok(t) = interpolate::parse(template, &at) else {
            return Binding::Unset;
        };
        match interpolate::evaluate(&t, self, &at) {
            Ok(Evaluated::Text(v)) => Binding::Set(v),
            Ok(Evaluated::Partial(_)) => Binding::Deferred,
            Err(_) => Binding::Unset,
        }
    }

    /// The dependency graph the values were computed along.
    pub fn graph(&self) -> &VarGraph {
        &self.graph
    }

    /// Variables whose value would be longer than [`MAX_VALUE_LEN`].
    pub fn too_long(&self) -> &[String] {
        &self.too_long
    }

    /// Every variable's value; `None` when unset (or not known yet).
    pub fn values(&self) -> IndexMap<String, Option<String>> {
        self.values
            .iter()
            .map(|(k, b)| {
                let v = match b {
                    Binding::Set(v) => Some(v.clone()),
                    _ => None,
                };
                (k.clone(), v)
            })
            .collect()
    }
}

impl Resolve for VarTable {
    fn resolve(&self, name: &str) -> Binding {
        self.values.get(name).cloned().unwrap_or(Binding::Unset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, VarSource)]) -> IndexMap<String, VarSource> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    fn template(t: &str) -> VarSource {
        VarSource::Template(t.to_owned())
    }

    #[test]
    fn evaluates_through_each_other_in_any_order() {
        let v = vars(&[
            ("HOST", template("${SLUG}.example")),
            (
                "SLUG",
                VarSource::Derived {
                    function: Derivation::Slug,
                    from: "BRANCH".into(),
                },
            ),
            ("BRANCH", VarSource::Input { help: None }),
        ]);
        let compile = VarTable::new(&v, None);
        assert_eq!(compile.resolve("HOST"), Binding::Deferred);
        let given: IndexMap<String, String> = [("BRANCH".to_owned(), "Feature/X".to_owned())]
            .into_iter()
            .collect();
        let run = VarTable::new(&v, Some(&given));
        assert_eq!(
            run.resolve("HOST"),
            Binding::Set("feature-x.example".into())
        );
    }

    #[test]
    fn reports_each_cycle_once_and_never_evaluates_it() {
        let v = vars(&[
            ("HOST", template("${A}${A}")),
            ("A", template("${HOST}${HOST}")),
            ("SELF", template("x${SELF}")),
            ("OK", VarSource::Literal("1".into())),
        ]);
        let table = VarTable::new(&v, None);
        assert_eq!(
            table.graph().cycles(),
            [
                vec!["HOST".to_owned(), "A".into(), "HOST".into()],
                vec!["SELF".to_owned(), "SELF".into()]
            ]
        );
        assert_eq!(table.resolve("HOST"), Binding::Unset);
        assert_eq!(table.resolve("OK"), Binding::Set("1".into()));
    }

    #[test]
    fn a_doubling_chain_is_bounded() {
        // Each variable doubles the previous one: 2^200 characters unbounded.
        let mut pairs = vec![("V0".to_owned(), VarSource::Literal("ab".into()))];
        for i in 1..200 {
            pairs.push((
                format!("V{i}"),
                template(&format!("${{V{p}}}${{V{p}}}", p = i - 1)),
            ));
        }
        let v: IndexMap<String, VarSource> = pairs.into_iter().collect();
        let start = std::time::Instant::now();
        let table = VarTable::new(&v, None);
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "took {:?}",
            start.elapsed()
        );
        // 2 * 2^15 = 64 KiB fits; V16 would be 128 KiB.
        assert!(matches!(table.resolve("V15"), Binding::Set(s) if s.len() == MAX_VALUE_LEN));
        assert_eq!(table.too_long()[0], "V16");
        assert_eq!(table.resolve("V16"), Binding::Unset);
    }

    #[test]
    fn a_long_chain_evaluates_without_deep_recursion() {
        let mut pairs = vec![("V0".to_owned(), VarSource::Literal("x".into()))];
        for i in 1..20_000 {
            pairs.push((format!("V{i}"), template(&format!("${{V{}}}", i - 1))));
        }
        let v: IndexMap<String, VarSource> = pairs.into_iter().rev().collect();
        let table = VarTable::new(&v, None);
        assert_eq!(table.resolve("V19999"), Binding::Set("x".into()));
    }

    #[test]
    fn taint_and_inputs_follow_the_graph() {
        let v = vars(&[
            ("KEY", VarSource::Secret),
            (
                "KEY_SLUG",
                VarSource::Derived {
                    function: Derivation::Slug,
                    from: "KEY".into(),
                },
            ),
            ("URL", template("https://${KEY_SLUG}@${HOST}")),
            ("HOST", VarSource::Literal("h".into())),
        ]);
        let g = VarGraph::new(&v);
        let tainted = g.derived_from(|n| matches!(v.get(n), Some(VarSource::Secret)));
        assert_eq!(
            tainted.into_iter().collect::<Vec<_>>(),
            ["KEY", "KEY_SLUG", "URL"]
        );
        let inputs = g.inputs_of(["URL"]);
        assert!(inputs.contains("KEY") && inputs.contains("HOST") && inputs.contains("URL"));
    }
}
