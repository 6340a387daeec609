//! Parses the overlays once, writes the catalog the `deployment!` macro
//! checks environments against, and checks environments that share a host
//! against each other.

fn main() {
    mrs_dsl::build::run("deployments/compose");
}
