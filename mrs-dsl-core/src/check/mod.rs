//! The rules an environment must satisfy to compile: a flat list of small
//! read-only checks over the [`Lowered`] model, one file per rule family.
//! Each records its errors in the [`Ctxt`] and carries on, so one compile
//! shows every mistake; none builds or changes anything, so their order
//! does not matter. A new DSL section adds its checks here, in its own file.

mod cross_env;
mod health;
mod images;
mod networks;
mod overlays;
mod persistence;
mod ports;
mod secret_flow;
pub(crate) mod secrets;
mod services;
mod shapes;
mod syntax;
mod variables;

pub use ports::collides;

use crate::ctxt::Ctxt;
use crate::lower::Lowered;

/// Applies every rule to `m`.
pub fn check(cx: &Ctxt, m: &Lowered<'_>) {
    syntax::check_duplicate_keys(cx, m);

    overlays::check_known(cx, m);
    overlays::check_not_empty(cx, m);
    overlays::check_not_repeated(cx, m);
    overlays::check_first(cx, m);
    overlays::check_order(cx, m);
    overlays::check_persistence(cx, m);
    overlays::check_tiers(cx, m);

    networks::check_declared(cx, m);
    networks::check_used(cx, m);
    networks::check_not_repeated(cx, m);

    services::check_known(cx, m);
    services::check_keys(cx, m);
    services::check_model(cx, m);
    services::check_build_removed(cx, m);
    services::check_image_present(cx, m);

    variables::check_supplied(cx, m);
    variables::check_used(cx, m);
    variables::check_declared(cx, m);
    variables::check_cycles(cx, m);
    variables::check_length(cx, m);

    secrets::check_declared_secret(cx, m);
    secrets::check_not_written(cx, m);
    secret_flow::check_flow(cx, m);

    ports::check_syntax(cx, m);
    ports::check_compile_time(cx, m);
    ports::check_listening(cx, m);
    ports::check_host_ports(cx, m);

    images::check_references(cx, m);
    images::check_pinned(cx, m);
    images::check_waivers(cx, m);

    persistence::check_absolute(cx, m);
    persistence::check_project_name(cx, m);
    persistence::check_lifetime(cx, m);
    persistence::check_project_varies(cx, m);

    health::check_url(cx, m);
    health::check_timeout(cx, m);
    health::check_expect(cx, m);
    health::check_connect_to(cx, m);

    shapes::check_shapes(cx, m);

    cross_env::check_clashes(cx, m);
}
