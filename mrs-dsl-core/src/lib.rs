//! Implementation detail of `mrs-dsl`: the `deployment!` macro as an
//! ordinary library, so that the build script can use the same parser for
//! checks across environments, and benchmarks can measure it.
//!
//! Modules: [`ast`] (the syntax, with spans), [`env`] (typed reading),
//! [`check`] (one function per rule), [`expand`] (code generation),
//! [`ctxt`] (error collection), [`spans`] (overlay locations to DSL
//! tokens), [`catalog`] (the build script's output), [`build`] (what a
//! build script calls).

pub mod ast;
pub mod build;
pub mod catalog;
pub mod check;
pub mod ctxt;
pub mod env;
pub mod expand;
pub mod keys;
pub mod spans;
pub mod template;

use proc_macro2::TokenStream;

use crate::ctxt::Ctxt;

/// Expands `deployment! { ... }` against the catalog of the crate being compiled.
pub fn deployment(input: TokenStream) -> TokenStream {
    match catalog::current() {
        Ok(catalog) => expand_with(input, &catalog),
        Err(e) => expand::fallback(syn::Error::new(proc_macro2::Span::call_site(), e)),
    }
}

/// Expands against a given catalog.
pub fn expand_with(input: TokenStream, catalog: &mrs_env::Catalog) -> TokenStream {
    match check_input(input, catalog) {
        Ok(checked) => expand::main_fn(&checked),
        Err(e) => expand::fallback(e),
    }
}

/// Parses and checks, returning the checked environment or every error.
pub fn check_input(input: TokenStream, catalog: &mrs_env::Catalog) -> syn::Result<check::Checked> {
    let input: ast::Input = syn::parse2(input)?;
    let cx = Ctxt::new();
    let env = env::Environment::from_ast(&cx, &input);
    let checked = check::check(&cx, &env, catalog);
    cx.check()?;
    checked.ok_or_else(|| syn::Error::new(proc_macro2::Span::call_site(), "environment rejected"))
}
