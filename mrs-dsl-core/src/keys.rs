//! Every keyword the DSL accepts, so unknown ones get a did-you-mean.

/// Top-level sections.
pub const TOP: &[&str] = &[
    "env",
    "tier",
    "persistent",
    "ephemeral",
    "overlays",
    "networks",
    "host",
    "services",
    "vars",
    "health",
];

/// Sections planned for later releases: accepted as keywords so a typo is
/// told apart from a section that does not exist yet.
pub const PLANNED: &[(&str, &str)] = &[
    ("backups", "restic repository, retention and schedule"),
    (
        "ship",
        "the hosts a signed release binary is shipped to over SSH",
    ),
    (
        "anonymise",
        "rules for copying production data into this environment",
    ),
    (
        "post_deploy",
        "commands run in a service after a deployment",
    ),
];

/// Keys of `persistent: { ... }`.
pub const PERSISTENT: &[&str] = &["home", "project"];

/// Keys of `ephemeral: { ... }`.
pub const EPHEMERAL: &[&str] = &["project", "root", "lifetime"];

/// Keys of `health: { ... }`.
pub const HEALTH: &[&str] = &[
    "url",
    "basic_auth",
    "unless",
    "timeout",
    "expect",
    "connect_to",
];

/// Keys of `basic_auth: { ... }`.
pub const BASIC_AUTH: &[&str] = &["user", "password"];

/// Keys of a service block that are not compose keys.
pub const SERVICE_EXTRA: &[&str] = &["unpinned"];

/// Variable sources written as a bare name.
pub const VAR_KEYWORDS: &[&str] = &["secret", "input", "unset"];

/// Functions deriving a variable from another.
pub const DERIVATIONS: &[&str] = &["slug", "format", "input"];
