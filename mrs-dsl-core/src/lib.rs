//! Implementation detail of `mrs-dsl`: the `deployment!` macro as an
//! ordinary library, so that the build script can use the same stages for
//! checks across environments, and benchmarks can measure it.
//!
//! Stages, each doing one thing:
//! [`read`] (the DSL into typed sections with spans) → [`lower`] (the merged
//! tree, the variables, the project and the spec, built once) → [`check`]
//! (read-only rules, one file per family, each with an id from [`rules`]) →
//! [`expand`] (code generation). [`ctxt`] collects and words errors,
//! [`spans`] maps overlay locations to DSL tokens, [`catalog`] finds the
//! build script's output, [`build`] is what a build script calls.

pub mod build;
pub mod catalog;
pub mod check;
pub mod ctxt;
pub mod expand;
pub mod keys;
pub mod lower;
pub mod read;
pub mod rules;
pub mod spans;

use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream};

use mrs_env::spec::EnvSpec;

use crate::ctxt::Ctxt;

/// What a successful check produces: the spec to embed and the files it was built from.
pub struct Checked {
    /// The spec.
    pub spec: EnvSpec,
    /// Absolute paths of the overlays merged (tracked by the expansion).
    pub files: Vec<PathBuf>,
}

/// Expands `deployment! { ... }` against the catalog of the crate being compiled.
pub fn deployment(input: TokenStream) -> TokenStream {
    match catalog::current() {
        Ok(catalog) => {
            let file = own_file(&catalog);
            match check_input_in(input, &catalog, file.as_deref()) {
                Ok(checked) => expand::main_fn(&checked),
                Err(e) => expand::fallback(e),
            }
        }
        Err(e) => expand::fallback(syn::Error::new(Span::call_site(), e)),
    }
}

/// The file being compiled, relative to the catalog's workspace (as the
/// build script names environments' files), when the compiler says.
fn own_file(catalog: &mrs_env::Catalog) -> Option<String> {
    let file = Span::call_site().local_file()?;
    relative_to(&catalog.root, &file)
}

/// `file` relative to `root`, with `/` separators.
pub fn relative_to(root: &Path, file: &Path) -> Option<String> {
    mrs_env::catalog::relative(root, file)
}

/// Expands against a given catalog.
pub fn expand_with(input: TokenStream, catalog: &mrs_env::Catalog) -> TokenStream {
    match check_input(input, catalog) {
        Ok(checked) => expand::main_fn(&checked),
        Err(e) => expand::fallback(e),
    }
}

/// Reads, lowers and checks, returning the checked environment or every error.
pub fn check_input(input: TokenStream, catalog: &mrs_env::Catalog) -> syn::Result<Checked> {
    check_input_in(input, catalog, None)
}

/// [`check_input`] for the environment in `file` (relative to the
/// catalog's workspace), which finds its clashes with other environments.
pub fn check_input_in(
    input: TokenStream,
    catalog: &mrs_env::Catalog,
    file: Option<&str>,
) -> syn::Result<Checked> {
    let input: read::ast::Input = syn::parse2(input).map_err(read::ast::with_rule)?;
    let cx = Ctxt::new();
    let env = read::Environment::from_ast(&cx, &input);
    let lowered = lower::lower(&env, catalog, file);
    check::check(&cx, &lowered);
    cx.check()?;
    let checked = lowered.spec().map(|spec| Checked {
        spec,
        files: lowered.files(),
    });
    checked.ok_or_else(|| syn::Error::new(Span::call_site(), "environment rejected"))
}
