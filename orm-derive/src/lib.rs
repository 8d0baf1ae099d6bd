//! `#[derive(Model)]`: maps a struct with named fields to a table.
//!
//! The derive reads `#[orm(...)]` attributes ([`attr`](self)), checks them together
//! (`ast`), and generates code (`expand`): the table metadata, one typed column constant
//! per field, a constructor, row decoding by column index and the values for INSERT and
//! UPDATE. Every mistake in a struct is reported at once, at the offending tokens.
//!
//! Struct attributes: `table = "name"` (default: the struct's name in snake_case),
//! `schema = "name"`, `primary_key(a, b)` for a composite key, `unique(a, b)` and
//! `index(a, b)` (repeatable), `no_constructor`, `crate = "path"`.
//!
//! Field attributes: `primary_key`, `auto` (database-generated integer key), `column =
//! "name"`, `unique`, `index`, `default = "SQL expression"`, `max_length = n`
//! (VARCHAR(n)), `sql_type = "TYPE"`, `references = Model` with optional `ref_column =
//! "col"`, `on_delete = "cascade"` and `on_update = "..."` (no_action, restrict, cascade,
//! set_null, set_default), and `skip` for a field that is not a column (filled with
//! `Default::default()` when loaded). An `Option<T>` field is nullable.

mod ast;
mod attr;
mod expand;

use proc_macro::TokenStream;

/// Derives `orm_core::Table` (so the struct is an `orm_core::Model`), `FromRow` and typed
/// column constants for a struct.
#[proc_macro_derive(Model, attributes(orm))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    let mut cx = attr::Ctxt::default();
    let model = ast::parse(&mut cx, &input);
    if let Err(err) = cx.finish() {
        return err.to_compile_error().into();
    }
    match model {
        Some(model) => expand::expand(&model).into(),
        None => TokenStream::new(),
    }
}
