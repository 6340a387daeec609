//! Implementation detail of `mrs-dsl`: the `deployment!` entry point. All
//! the work is in `mrs-dsl-core`; see `mrs_dsl::deployment!` for the docs.

use proc_macro::TokenStream;

/// Declares an environment; see `mrs_dsl::deployment!`.
#[proc_macro]
pub fn deployment(input: TokenStream) -> TokenStream {
    mrs_dsl_core::deployment(input.into()).into()
}
