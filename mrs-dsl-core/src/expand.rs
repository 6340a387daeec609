//! Code generation: the environment's `main`, with the spec embedded and
//! every overlay file tracked so editing one rebuilds the binary.

use proc_macro2::TokenStream;
use quote::quote;

use crate::Checked;

/// The binary's `main`: runs the environment's CLI on the embedded spec.
pub fn main_fn(checked: &Checked) -> TokenStream {
    let json = serde_json::to_string(&checked.spec).unwrap_or_default();
    let files = checked.files.iter().map(|p| p.display().to_string());
    let doc = if checked.spec.about.is_empty() {
        format!("The `{}` environment.", checked.spec.name)
    } else {
        checked.spec.about.clone()
    };
    quote! {
        #[doc = #doc]
        fn main() -> ::std::process::ExitCode {
            // Tracked so that editing an overlay rebuilds this environment.
            #( const _: &[u8] = ::core::include_bytes!(#files); )*
            static SPEC: &str = #json;
            ::mrs_dsl::__private::run(SPEC)
        }
    }
}

/// What is emitted when checking failed: the errors and a `main`, so that
/// the user sees our errors and not a missing-`main` cascade.
pub fn fallback(errors: syn::Error) -> TokenStream {
    let errors = errors.to_compile_error();
    quote! {
        #errors
        fn main() {}
    }
}
