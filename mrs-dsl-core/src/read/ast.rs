//! The DSL as written: a tree of `key: value` fields that keeps every token
//! for spans. Typed meaning is given by [`crate::read`]; this module only knows
//! the syntax, so new sections (backups, shipping, ...) need no new syntax.
//! Its errors are the [`rules::SYNTAX`] rule's (and [`rules::DURATION`]'s
//! for `7 days`).
//!
//! ```text
//! input  := doc* fields
//! fields := (field ("," field)* ","?)?
//! field  := doc* key ":" value
//! key    := IDENT | STRING
//! value  := STRING | INT (with unit suffix: 60s, 7d) | true | false
//!         | IDENT | IDENT "(" values ")" | "[" values "]" | "{" fields "}"
//! ```

use proc_macro2::Span;
use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Ident, LitBool, LitInt, LitStr, Token, braced, bracketed, parenthesized};

use crate::ctxt::Message;
use crate::rules::{self, Rule};

/// A parse error worded as a broken `rule`.
fn error(rule: Rule, span: Span, message: impl Into<String>) -> syn::Error {
    syn::Error::new(span, Message::new(rule, message).build())
}

/// The duration unit a word stands for (`days` is `d`), with a factor.
pub fn unit_of_word(word: &str) -> Option<(&'static str, u64)> {
    Some(match word {
        "s" | "sec" | "secs" | "second" | "seconds" => ("s", 1),
        "m" | "min" | "mins" | "minute" | "minutes" => ("m", 1),
        "h" | "hr" | "hrs" | "hour" | "hours" => ("h", 1),
        "d" | "day" | "days" => ("d", 1),
        "w" | "week" | "weeks" => ("d", 7),
        _ => return None,
    })
}

/// The whole macro input: doc comments and fields.
#[derive(Debug)]
pub struct Input {
    /// `///` lines before the first field.
    pub docs: Vec<String>,
    /// The fields.
    pub fields: Vec<Field>,
}

/// `key: value`.
#[derive(Debug)]
pub struct Field {
    /// `///` lines before the key.
    pub docs: Vec<String>,
    /// The key.
    pub key: Key,
    /// The value.
    pub value: Value,
}

/// A field key: an identifier, or a string for keys that are not identifiers.
#[derive(Debug, Clone)]
pub struct Key {
    /// The key's text.
    pub name: String,
    /// Its span.
    pub span: Span,
}

/// A value.
#[derive(Debug)]
pub enum Value {
    /// `"text"`.
    Str(LitStr),
    /// `8000`, `60s`, `7d`.
    Int(LitInt),
    /// `true` / `false`.
    Bool(LitBool),
    /// `none`, `secret`, `base`, `HOST`...
    Ident(Ident),
    /// `slug(HOST)`.
    Call(Ident, Vec<Value>, Span),
    /// `[a, b]`.
    List(Vec<Value>, Span),
    /// `{ key: value }`.
    Map(Vec<Field>, Span),
}

impl Value {
    /// The span of the whole value.
    pub fn span(&self) -> Span {
        match self {
            Value::Str(s) => s.span(),
            Value::Int(i) => i.span(),
            Value::Bool(b) => b.span,
            Value::Ident(i) => i.span(),
            Value::Call(_, _, s) | Value::List(_, s) | Value::Map(_, s) => *s,
        }
    }

    /// What kind of value this is, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Str(_) => "a string",
            Value::Int(_) => "a number",
            Value::Bool(_) => "a boolean",
            Value::Ident(_) => "a name",
            Value::Call(..) => "a function call",
            Value::List(..) => "a list",
            Value::Map(..) => "a map",
        }
    }
}

fn docs(input: ParseStream<'_>) -> syn::Result<Vec<String>> {
    let attrs = input.call(syn::Attribute::parse_outer)?;
    let mut out = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            return Err(syn::Error::new(
                attr.span(),
                "only doc comments (`///`) are allowed here",
            ));
        }
        if let syn::Meta::NameValue(nv) = &attr.meta
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
        {
            out.push(s.value().trim().to_owned());
        }
    }
    Ok(out)
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let docs = docs(input)?;
        let fields = parse_fields(input)?;
        Ok(Input { docs, fields })
    }
}

fn parse_fields(input: ParseStream<'_>) -> syn::Result<Vec<Field>> {
    let mut fields = Vec::new();
    while !input.is_empty() {
        fields.push(input.parse()?);
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    Ok(fields)
}

impl Parse for Field {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let docs = docs(input)?;
        let key = if input.peek(LitStr) {
            let s: LitStr = input.parse()?;
            Key {
                name: s.value(),
                span: s.span(),
            }
        } else if input.peek(syn::Ident::peek_any) {
            let i = input.call(<Ident as syn::ext::IdentExt>::parse_any)?;
            Key {
                name: i.to_string(),
                span: i.span(),
            }
        } else {
            return Err(error(
                rules::SYNTAX,
                input.span(),
                "expected a key: a name like `env`, or a string",
            ));
        };
        input.parse::<Token![:]>().map_err(|e| {
            error(
                rules::SYNTAX,
                e.span(),
                format!("expected `:` after `{}`", key.name),
            )
        })?;
        let value = input.parse()?;
        Ok(Field { docs, key, value })
    }
}

impl Parse for Value {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let look = input.lookahead1();
        if look.peek(LitStr) {
            Ok(Value::Str(input.parse()?))
        } else if look.peek(LitInt) {
            let lit: LitInt = input.parse()?;
            // `7 days`: a duration written as words.
            if lit.suffix().is_empty()
                && let Ok(word) = input.fork().call(<Ident as syn::ext::IdentExt>::parse_any)
                && let Some((unit, factor)) = unit_of_word(&word.to_string())
            {
                let n = match lit.base10_parse::<u64>().map(|n| n.checked_mul(factor)) {
                    Ok(Some(n)) => n.to_string(),
                    _ => lit.base10_digits().to_owned(),
                };
                return Err(error(
                    rules::DURATION,
                    word.span(),
                    format!("a duration is one token: write `{n}{unit}`"),
                ));
            }
            Ok(Value::Int(lit))
        } else if look.peek(LitBool) {
            Ok(Value::Bool(input.parse()?))
        } else if look.peek(syn::token::Bracket) {
            let content;
            let bracket = bracketed!(content in input);
            let items = Punctuated::<Value, Token![,]>::parse_terminated(&content)?;
            Ok(Value::List(
                items.into_iter().collect(),
                bracket.span.join(),
            ))
        } else if look.peek(syn::token::Brace) {
            let content;
            let brace = braced!(content in input);
            let fields = parse_fields(&content)?;
            Ok(Value::Map(fields, brace.span.join()))
        } else if look.peek(Ident::peek_any) {
            let ident = input.call(<Ident as syn::ext::IdentExt>::parse_any)?;
            if input.peek(syn::token::Paren) {
                let content;
                let paren = parenthesized!(content in input);
                let args = Punctuated::<Value, Token![,]>::parse_terminated(&content)?;
                let span = ident
                    .span()
                    .join(paren.span.close())
                    .unwrap_or_else(|| ident.span());
                Ok(Value::Call(ident, args.into_iter().collect(), span))
            } else {
                Ok(Value::Ident(ident))
            }
        } else {
            let e = look.error();
            Err(error(rules::SYNTAX, e.span(), e.to_string()))
        }
    }
}

/// A syn error from this grammar with its rule: errors raised here carry one
/// already; others (a stray token after a value) are [`rules::SYNTAX`]'s.
pub fn with_rule(e: syn::Error) -> syn::Error {
    let mut out: Option<syn::Error> = None;
    for one in e {
        let text = one.to_string();
        let one = if text.contains("\n  = rule: ") {
            one
        } else {
            error(rules::SYNTAX, one.span(), text)
        };
        match &mut out {
            Some(all) => all.combine(one),
            None => out = Some(one),
        }
    }
    out.unwrap_or_else(|| error(rules::SYNTAX, Span::call_site(), "invalid input"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_shape_of_an_environment() {
        let input: Input = syn::parse_quote! {
            /// Doc line.
            env: local,
            persistent: { home: "/tmp/x" },
            overlays: [base, persist],
            vars: { HOST_SLUG: slug(HOST), "8000": 1, ok: true },
            health: { timeout: 60s },
        };
        assert_eq!(input.docs, ["Doc line."]);
        let keys: Vec<&str> = input.fields.iter().map(|f| f.key.name.as_str()).collect();
        assert_eq!(keys, ["env", "persistent", "overlays", "vars", "health"]);
        assert!(
            matches!(&input.fields[3].value, Value::Map(f, _) if matches!(&f[0].value, Value::Call(i, a, _) if i == "slug" && a.len() == 1))
        );
        assert!(
            matches!(&input.fields[4].value, Value::Map(f, _) if matches!(&f[0].value, Value::Int(i) if i.suffix() == "s"))
        );
    }

    #[test]
    fn reports_syntax_errors() {
        let e = syn::parse2::<Input>(quote::quote! { env local }).expect_err("missing colon");
        assert_eq!(e.to_string(), "expected `:` after `env`\n  = rule: syntax");
        assert!(syn::parse2::<Input>(quote::quote! { env: , }).is_err());
        let e = syn::parse2::<Input>(quote::quote! { lifetime: 2 weeks }).expect_err("words");
        assert_eq!(
            e.to_string(),
            "a duration is one token: write `14d`\n  = rule: duration"
        );
        let e = with_rule(syn::parse2::<Input>(quote::quote! { a: 1 b: 2 }).expect_err("comma"));
        assert!(e.to_string().ends_with("= rule: syntax"), "{e}");
    }
}
