//! `hub!("path/to/schema.hubs", wallet)` expands to the items of the
//! generated `wallet` crate, for teams that prefer no checked-in code. The
//! path is relative to the invoking crate's `Cargo.toml` (as with
//! `sqlx::migrate!`) or, when no such file is there, to the file that invokes
//! the macro (as with `include_str!`). A schema error is a compile error
//! naming the schema file, line and column.
//!
//! The migrations embedded are the forward files in `migrations/<hub>/` next
//! to the schema's folder (as `hubgen generate` wrote them), in version
//! order, or, where there are none yet, the first migration of the schema.

use proc_macro2::TokenStream;
use quote::quote;
use std::path::{Path, PathBuf};
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Token};

struct Args {
    path: LitStr,
    hub: Ident,
    /// `ids = crate::ids`: where the schema's `hub_ids!` expansion lives.
    ids: Option<syn::Path>,
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let path = input.parse()?;
        input.parse::<Token![,]>()?;
        let hub = input.parse()?;
        let mut ids = None;
        if input.parse::<Option<Token![,]>>()?.is_some() && !input.is_empty() {
            let key: Ident = input.parse()?;
            if key != "ids" {
                return Err(syn::Error::new(key.span(), "expected `ids = path::to::ids`"));
            }
            input.parse::<Token![=]>()?;
            ids = Some(input.parse()?);
            input.parse::<Option<Token![,]>>()?;
        }
        Ok(Args { path, hub, ids })
    }
}

/// Where the schema file named in a macro call is: relative to the crate's
/// manifest, else to the invoking file.
fn schema_base(path: &str) -> PathBuf {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let invoking_dir = proc_macro::Span::call_site()
        .local_file()
        .and_then(|f| f.parent().map(Path::to_path_buf));
    match invoking_dir {
        Some(dir) if !manifest_dir.join(path).is_file() && dir.join(path).is_file() => dir,
        _ => manifest_dir,
    }
}

/// `hub_ids!("path/to/schema.hubs")` expands to the typed IDs of every hub of
/// a schema with several hubs; put it in a module and give that module to
/// each `hub!(.., ids = crate::ids)`, so a cross-hub reference has one type.
#[proc_macro]
pub fn hub_ids(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let path = syn::parse_macro_input!(input as LitStr);
    let file = schema_base(&path.value()).join(path.value());
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) => {
            return syn::Error::new(path.span(), format!("cannot read schema {}: {e}", path.value()))
                .to_compile_error()
                .into()
        }
    };
    let output = hubgen_schema::compile(&text);
    let Some(ir) = output.ir else {
        let source = hubgen_schema::SourceFile::new(path.value(), text);
        let message = hubgen_schema::diagnostics::render_all(&output.diagnostics, &source, false);
        return syn::Error::new(path.span(), message).to_compile_error().into();
    };
    let items = hubgen_codegen::rust::json_schema_always(hubgen_codegen::rust::schema_ids(&ir));
    let track = file.display().to_string();
    quote!(const _: &[u8] = include_bytes!(#track); #items).into()
}

#[proc_macro]
pub fn hub(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let args = syn::parse_macro_input!(input as Args);
    let path = args.path.value();
    match expand(&schema_base(&path), &path, &args.hub.to_string(), args.ids.as_ref()) {
        Ok((items, schema_file)) => {
            let items = hubgen_codegen::rust::json_schema_always(items);
            // Rebuild when the schema changes.
            let track = schema_file.display().to_string();
            quote!(const _: &[u8] = include_bytes!(#track); #items).into()
        }
        Err(message) => syn::Error::new(args.path.span(), message).to_compile_error().into(),
    }
}

/// The items of `hub` in the schema at `path` (relative to `base`).
fn expand(base: &Path, path: &str, hub: &str, ids: Option<&syn::Path>) -> Result<(TokenStream, PathBuf), String> {
    let file = base.join(path);
    let text = std::fs::read_to_string(&file).map_err(|e| format!("cannot read schema {path}: {e}"))?;
    let output = hubgen_schema::compile(&text);
    let Some(ir) = output.ir else {
        let source = hubgen_schema::SourceFile::new(path, text);
        return Err(hubgen_schema::diagnostics::render_all(&output.diagnostics, &source, false));
    };
    let Some(hub_ir) = ir.hub(hub) else {
        let names: Vec<&str> = ir.hubs.iter().map(|h| h.name.as_str()).collect();
        return Err(format!("{path} has no hub `{hub}`; its hubs are {}", names.join(", ")));
    };
    // The migrations on disk, as `hubgen generate` wrote them; without any yet, the first one.
    let mut migrations = hubgen_codegen::Project::of_schema(&file).forward_migrations(hub)?;
    if migrations.is_empty() {
        let config = hubgen_codegen::Config {
            schema_path: path.to_string(),
            single_threaded: true,
            ..Default::default()
        };
        let output = hubgen_codegen::generate(&ir, &config);
        let prefix = format!("migrations/{hub}/");
        let files = output
            .files
            .into_iter()
            .filter_map(|(name, sql)| Some((name.strip_prefix(&prefix)?.to_string(), sql)))
            .collect();
        migrations = hubgen_codegen::generate::forward_migrations(&files);
    }
    Ok((hubgen_codegen::rust::hub_items_with_ids(&ir, hub_ir, &migrations, ids), file))
}

#[cfg(test)]
mod tests {
    use super::expand;
    use hubgen_codegen::rust::json_schema_always;
    use std::path::Path;

    /// What the macro expands to is exactly the generated crate's items.
    #[test]
    fn expansion_equals_the_generated_crate() {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        for hub in ["wallet", "tenant", "billing"] {
            let (expanded, _) = expand(manifest, "../schema/platform.hubs", hub, None).expect("expands");
            let text = std::fs::read_to_string(manifest.join(format!("../generated/{hub}/src/lib.rs"))).expect("generated crate");
            let mut file = syn::parse_file(&text).expect("generated file parses");
            // The crate docs are inner attributes and the layout marker is for rustfmt: neither is an item.
            file.attrs.clear();
            for item in &mut file.items {
                strip_rustfmt_skip(item);
            }
            // Compare canonical renderings: `///` and `#[doc = r"..."]` are the same tokens spelled differently.
            let expanded = prettyplease::unparse(&syn::parse2::<syn::File>(json_schema_always(expanded)).expect("expansion parses"));
            // The generated crate with its `json-schema` feature on, as `hub!` expands.
            let generated =
                syn::parse2::<syn::File>(json_schema_always(quote::ToTokens::to_token_stream(&file))).expect("generated items parse");
            let generated = prettyplease::unparse(&generated);
            assert_eq!(expanded, generated, "hub!(.., {hub}) differs from generated/{hub}");
        }
    }

    fn strip_rustfmt_skip(item: &mut syn::Item) {
        if let Some(attrs) = hubgen_codegen::rust::item_attrs(item) {
            attrs.retain(|a| a.path().segments.first().is_none_or(|s| s.ident != "rustfmt"));
        }
    }

    #[test]
    fn schema_errors_name_file_line_and_column() {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let error = expand(manifest, "tests/ui/bad.hubs", "app", None).expect_err("the schema is bad");
        assert!(error.contains("--> tests/ui/bad.hubs:4:"), "{error}");
        let error = expand(manifest, "../schema/platform.hubs", "walet", None).expect_err("no such hub");
        assert!(error.contains("has no hub `walet`"), "{error}");
    }

    #[test]
    fn compile_errors_are_pinned() {
        let cases = trybuild::TestCases::new();
        cases.compile_fail("tests/ui/*.rs");
        // Schemas of one's own, one hub and several, build and run.
        cases.pass("tests/pass/*.rs");
    }
}
