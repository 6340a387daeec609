//! Every rule the linter applies, with its stable id.
//!
//! Each error names its rule (`= rule: secret-flow`); `docs/RULES.md` has a
//! section per id (what the rule prevents, an example error), and
//! `tests/ui/fail/<id>/` at least one case that breaks it. A test keeps the
//! three in step. [`Rule::raised_in`] is the file that raises it, so an
//! error leads to its code in one step.

/// One rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Stable kebab-case id, printed as `= rule: <id>`.
    pub id: &'static str,
    /// The file that raises it, from the workspace root.
    pub raised_in: &'static str,
}

macro_rules! rules {
    ($( $(#[doc = $doc:literal])+ $konst:ident = $id:literal in $file:literal; )*) => {
        $(
            $(#[doc = $doc])+
            pub const $konst: Rule = Rule { id: $id, raised_in: $file };
        )*
        /// Every rule, in the order of `docs/RULES.md`.
        pub const ALL: &[Rule] = &[$($konst),*];
    };
}

rules! {
    /// The DSL's grammar: `key: value` fields separated by commas.
    SYNTAX = "syntax" in "mrs-dsl-core/src/read/ast.rs";
    /// A key that the section does not have.
    UNKNOWN_KEY = "unknown-key" in "mrs-dsl-core/src/read/shape.rs";
    /// A value of the wrong kind (a string where a name goes, ...).
    VALUE_KIND = "value-kind" in "mrs-dsl-core/src/read/shape.rs";
    /// A key that must be given is missing.
    MISSING_KEY = "missing-key" in "mrs-dsl-core/src/read/mod.rs";
    /// A duration is written `60s`, `15m`, `2h` or `7d`.
    DURATION = "duration" in "mrs-dsl-core/src/read/shape.rs";
    /// A section reserved for a later release.
    PLANNED_SECTION = "planned-section" in "mrs-dsl-core/src/read/mod.rs";
    /// A tier that does not exist.
    UNKNOWN_TIER = "unknown-tier" in "mrs-dsl-core/src/read/mod.rs";
    /// Both `persistent` and `ephemeral`.
    PERSISTENCE_KIND = "persistence-kind" in "mrs-dsl-core/src/read/mod.rs";
    /// A service override's value that is not a value.
    OVERRIDE_VALUE = "override-value" in "mrs-dsl-core/src/read/services.rs";
    /// A name in `vars` that cannot be a variable.
    VARIABLE_NAME = "variable-name" in "mrs-dsl-core/src/read/vars.rs";
    /// A variable's source that the DSL does not have.
    VARIABLE_SOURCE = "variable-source" in "mrs-dsl-core/src/read/vars.rs";
    /// A `{NAME}` template that does not parse.
    TEMPLATE_SYNTAX = "template-syntax" in "mrs-dsl-core/src/read/shape.rs";
    /// The same key twice in one map of the DSL.
    DUPLICATE_KEY = "duplicate-key" in "mrs-dsl-core/src/check/syntax.rs";

    /// An overlay that the catalog does not have.
    UNKNOWN_OVERLAY = "unknown-overlay" in "mrs-dsl-core/src/check/overlays.rs";
    /// `overlays: []`.
    OVERLAYS_EMPTY = "overlays-empty" in "mrs-dsl-core/src/check/overlays.rs";
    /// The same overlay merged twice.
    OVERLAY_REPEATED = "overlay-repeated" in "mrs-dsl-core/src/check/overlays.rs";
    /// An overlay whose rules say `first: true`, not merged first.
    OVERLAY_FIRST = "overlay-first" in "mrs-dsl-core/src/check/overlays.rs";
    /// An overlay merged before one its rules say it comes after.
    OVERLAY_ORDER = "overlay-order" in "mrs-dsl-core/src/check/overlays.rs";
    /// An overlay that requires the other persistence kind.
    OVERLAY_PERSISTENCE = "overlay-persistence" in "mrs-dsl-core/src/check/overlays.rs";
    /// An overlay its rules forbid in this tier.
    OVERLAY_FORBIDDEN_TIER = "overlay-forbidden-tier" in "mrs-dsl-core/src/check/overlays.rs";
    /// An overlay its rules reserve for other tiers.
    OVERLAY_REQUIRED_TIER = "overlay-required-tier" in "mrs-dsl-core/src/check/overlays.rs";

    /// An external network the overlays use and the environment does not declare.
    NETWORK_UNDECLARED = "network-undeclared" in "mrs-dsl-core/src/check/networks.rs";
    /// A declared network that nothing uses.
    NETWORK_UNUSED = "network-unused" in "mrs-dsl-core/src/check/networks.rs";
    /// A network listed twice.
    NETWORK_REPEATED = "network-repeated" in "mrs-dsl-core/src/check/networks.rs";

    /// A service override for a service the overlays do not define.
    UNKNOWN_SERVICE = "unknown-service" in "mrs-dsl-core/src/check/services.rs";
    /// A service key outside the Compose Specification.
    SERVICE_KEY = "service-key" in "mrs-dsl-core/src/check/services.rs";
    /// A service key mrs-deploy does not apply yet.
    SERVICE_KEY_UNSUPPORTED = "service-key-unsupported" in "mrs-dsl-core/src/check/services.rs";
    /// `build` left in the merged configuration.
    BUILD_REMOVED = "build-removed" in "mrs-dsl-core/src/check/services.rs";
    /// A service without an image.
    SERVICE_IMAGE = "service-image" in "mrs-dsl-core/src/check/services.rs";
    /// The merged configuration is not a valid compose project.
    COMPOSE_MODEL = "compose-model" in "mrs-dsl-core/src/check/services.rs";

    /// A variable the overlays need and the environment does not supply.
    VARIABLE_MISSING = "variable-missing" in "mrs-dsl-core/src/check/variables.rs";
    /// A declared variable that nothing uses.
    VARIABLE_UNUSED = "variable-unused" in "mrs-dsl-core/src/check/variables.rs";
    /// A variable the DSL refers to without declaring it.
    VARIABLE_UNDECLARED = "variable-undeclared" in "mrs-dsl-core/src/check/variables.rs";
    /// A variable computed from itself.
    VARIABLE_CYCLE = "variable-cycle" in "mrs-dsl-core/src/check/variables.rs";
    /// A variable whose value would be too long.
    VARIABLE_TOO_LONG = "variable-too-long" in "mrs-dsl-core/src/check/variables.rs";

    /// A variable an overlay calls secret, not read at run time as a secret.
    SECRET_DECLARED = "secret-declared" in "mrs-dsl-core/src/check/secrets.rs";
    /// A value written in the source for a name an overlay calls secret.
    SECRET_WRITTEN = "secret-written" in "mrs-dsl-core/src/check/secrets.rs";
    /// A secret, or a value computed from one, reaching anything but a container's environment.
    SECRET_FLOW = "secret-flow" in "mrs-dsl-core/src/check/secret_flow.rs";

    /// A port mapping that does not parse.
    PORT_SYNTAX = "port-syntax" in "mrs-dsl-core/src/check/ports.rs";
    /// A port mapping known only at run time.
    PORT_RUN_TIME = "port-run-time" in "mrs-dsl-core/src/check/ports.rs";
    /// A mapping to a port the service does not listen on.
    PORT_NOT_LISTENING = "port-not-listening" in "mrs-dsl-core/src/check/ports.rs";
    /// Two mappings binding one host port, in one environment or across environments on one host.
    HOST_PORT_CLASH = "host-port-clash" in "mrs-dsl-core/src/check/ports.rs";

    /// An image reference that does not parse.
    IMAGE_REFERENCE = "image-reference" in "mrs-dsl-core/src/check/images.rs";
    /// A moving tag in a production-tier environment.
    IMAGE_PINNED = "image-pinned" in "mrs-dsl-core/src/check/images.rs";
    /// `unpinned` where there is nothing to waive, or without a reason.
    UNPINNED_WAIVER = "unpinned-waiver" in "mrs-dsl-core/src/check/images.rs";

    /// A home or root that is not absolute.
    PATH_ABSOLUTE = "path-absolute" in "mrs-dsl-core/src/check/persistence.rs";
    /// A project name compose refuses.
    PROJECT_NAME = "project-name" in "mrs-dsl-core/src/check/persistence.rs";
    /// An ephemeral environment that lives no time at all.
    EPHEMERAL_LIFETIME = "ephemeral-lifetime" in "mrs-dsl-core/src/check/persistence.rs";
    /// An ephemeral project name that does not vary with a run-time input.
    EPHEMERAL_PROJECT_INPUT = "ephemeral-project-input" in "mrs-dsl-core/src/check/persistence.rs";

    /// A health URL that is not http(s).
    HEALTH_URL = "health-url" in "mrs-dsl-core/src/check/health.rs";
    /// A health timeout of zero.
    HEALTH_TIMEOUT = "health-timeout" in "mrs-dsl-core/src/check/health.rs";
    /// An expected status that is not an HTTP status.
    HEALTH_EXPECT = "health-expect" in "mrs-dsl-core/src/check/health.rs";
    /// A `connect_to` that is not `host:port`.
    HEALTH_CONNECT_TO = "health-connect-to" in "mrs-dsl-core/src/check/health.rs";

    /// A literal whose uses tell its shape (a host, a port, a duration), of another shape.
    VALUE_SHAPE = "value-shape" in "mrs-dsl-core/src/check/shapes.rs";

    /// Two environments on one host with one project name.
    PROJECT_CLASH = "project-clash" in "mrs-dsl-core/src/check/cross_env.rs";
    /// Two environments on one host with one home.
    HOME_CLASH = "home-clash" in "mrs-dsl-core/src/check/cross_env.rs";
    /// Two environments on one host with one name.
    ENV_NAME_CLASH = "env-name-clash" in "mrs-dsl-core/src/check/cross_env.rs";

    /// An overlay file that is not a valid compose file (reported by the build script).
    OVERLAY_FILE = "overlay-file" in "mrs-dsl-core/src/build.rs";
    /// An overlay's `x-mrs` rules that do not parse or refer to nothing (reported by the build script).
    OVERLAY_RULES = "overlay-rules" in "mrs-dsl-core/src/build.rs";
}

/// The rule with `id`.
pub fn by_id(id: &str) -> Option<Rule> {
    ALL.iter().copied().find(|r| r.id == id)
}

/// Rules reported by the build script (their cases are overlay folders, not `.rs` files).
pub fn from_build_script(rule: Rule) -> bool {
    rule.raised_in.ends_with("/build.rs")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case_and_their_files_exist() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for (i, rule) in ALL.iter().enumerate() {
            assert!(
                rule.id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                rule.id
            );
            assert!(
                !ALL[..i].iter().any(|r| r.id == rule.id),
                "{} twice",
                rule.id
            );
            // The file named raises it: it uses the rule's constant.
            let konst = rule.id.to_ascii_uppercase().replace('-', "_");
            let text = std::fs::read_to_string(root.join(rule.raised_in))
                .unwrap_or_else(|e| panic!("{}: {}: {e}", rule.id, rule.raised_in));
            assert!(
                text.contains(&format!("rules::{konst}")),
                "{} is not raised in {}",
                rule.id,
                rule.raised_in
            );
        }
    }
}
