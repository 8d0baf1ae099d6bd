//! Parsing `#[orm(...)]` attributes into typed values. Every mistake is recorded in the
//! [`Ctxt`] with the span of the offending tokens, and parsing goes on, so a struct's
//! errors are all reported at once.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::{Attribute, Ident, LitInt, LitStr, Path};

/// Collects errors; turned into one `compile_error!` list at the end.
#[derive(Default)]
pub struct Ctxt {
    errors: Vec<syn::Error>,
}

impl Ctxt {
    pub fn error(&mut self, span: Span, message: impl std::fmt::Display) {
        self.errors.push(syn::Error::new(span, message));
    }

    pub fn push(&mut self, err: syn::Error) {
        self.errors.push(err);
    }

    pub fn finish(self) -> Result<(), syn::Error> {
        let mut errors = self.errors.into_iter();
        let Some(mut first) = errors.next() else {
            return Ok(());
        };
        for e in errors {
            first.combine(e);
        }
        Err(first)
    }
}

/// Struct-level options.
#[derive(Default)]
pub struct ModelAttrs {
    pub table: Option<LitStr>,
    pub schema: Option<LitStr>,
    pub crate_path: Option<Path>,
    pub primary_key: Option<(Span, Vec<Ident>)>,
    pub unique: Vec<Vec<Ident>>,
    pub index: Vec<Vec<Ident>>,
    pub no_constructor: bool,
    pub hooks: Option<Span>,
}

/// Field-level options.
#[derive(Default)]
pub struct FieldAttrs {
    pub primary_key: Option<Span>,
    pub auto: Option<Span>,
    pub column: Option<LitStr>,
    pub unique: bool,
    pub index: bool,
    pub default: Option<LitStr>,
    pub max_length: Option<(Span, u32)>,
    pub sql_type: Option<LitStr>,
    pub references: Option<Path>,
    pub ref_column: Option<LitStr>,
    pub on_delete: Option<(Span, String)>,
    pub on_update: Option<(Span, String)>,
    pub skip: bool,
    /// `version`, `created_at`, `updated_at` or `soft_delete`, with its span.
    pub role: Option<(Span, &'static str)>,
}

fn orm_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("orm"))
}

fn ident_list(meta: &ParseNestedMeta<'_>) -> syn::Result<Vec<Ident>> {
    let mut out = Vec::new();
    meta.parse_nested_meta(|inner| {
        match inner.path.get_ident() {
            Some(id) => out.push(id.clone()),
            None => return Err(inner.error("expected a field name")),
        }
        Ok(())
    })?;
    if out.is_empty() {
        return Err(meta.error("expected at least one field name"));
    }
    Ok(out)
}

pub fn model_attrs(cx: &mut Ctxt, attrs: &[Attribute]) -> ModelAttrs {
    let mut out = ModelAttrs::default();
    for attr in orm_attrs(attrs) {
        let result = attr.parse_nested_meta(|meta| {
            let p = &meta.path;
            if p.is_ident("table") {
                out.table = Some(meta.value()?.parse()?);
            } else if p.is_ident("schema") {
                out.schema = Some(meta.value()?.parse()?);
            } else if p.is_ident("crate") {
                let s: LitStr = meta.value()?.parse()?;
                out.crate_path = Some(s.parse()?);
            } else if p.is_ident("primary_key") {
                out.primary_key = Some((p.require_ident()?.span(), ident_list(&meta)?));
            } else if p.is_ident("unique") {
                out.unique.push(ident_list(&meta)?);
            } else if p.is_ident("index") {
                out.index.push(ident_list(&meta)?);
            } else if p.is_ident("no_constructor") {
                out.no_constructor = true;
            } else if p.is_ident("hooks") {
                out.hooks = Some(p.require_ident()?.span());
            } else {
                return Err(meta.error(
                    "unknown model attribute; expected one of: table, schema, primary_key(..), unique(..), index(..), no_constructor, hooks, crate",
                ));
            }
            Ok(())
        });
        if let Err(e) = result {
            cx.push(e);
        }
    }
    out
}

/// The columns the ORM maintains (`ColumnRole`).
const ROLES: &[&str] = &["version", "created_at", "updated_at", "soft_delete"];

const FK_ACTIONS: &[&str] = &[
    "no_action",
    "restrict",
    "cascade",
    "set_null",
    "set_default",
];

fn fk_action(meta: &ParseNestedMeta<'_>) -> syn::Result<(Span, String)> {
    let s: LitStr = meta.value()?.parse()?;
    let v = s.value().to_ascii_lowercase().replace([' ', '-'], "_");
    if !FK_ACTIONS.contains(&v.as_str()) {
        return Err(syn::Error::new(
            s.span(),
            format!(
                "unknown foreign key action; expected one of: {}",
                FK_ACTIONS.join(", ")
            ),
        ));
    }
    Ok((s.span(), v))
}

pub fn field_attrs(cx: &mut Ctxt, attrs: &[Attribute]) -> FieldAttrs {
    let mut out = FieldAttrs::default();
    for attr in orm_attrs(attrs) {
        let result = attr.parse_nested_meta(|meta| {
            let p = &meta.path;
            let span = p.require_ident()?.span();
            if p.is_ident("primary_key") {
                out.primary_key = Some(span);
            } else if p.is_ident("auto") {
                out.auto = Some(span);
            } else if p.is_ident("column") {
                out.column = Some(meta.value()?.parse()?);
            } else if p.is_ident("unique") {
                out.unique = true;
            } else if p.is_ident("index") {
                out.index = true;
            } else if p.is_ident("default") {
                out.default = Some(meta.value()?.parse()?);
            } else if p.is_ident("max_length") {
                let n: LitInt = meta.value()?.parse()?;
                let value = n.base10_parse::<u32>()?;
                if value == 0 {
                    return Err(syn::Error::new(n.span(), "max_length must be at least 1"));
                }
                out.max_length = Some((span, value));
            } else if p.is_ident("sql_type") {
                out.sql_type = Some(meta.value()?.parse()?);
            } else if p.is_ident("references") {
                out.references = Some(meta.value()?.parse()?);
            } else if p.is_ident("ref_column") {
                out.ref_column = Some(meta.value()?.parse()?);
            } else if p.is_ident("on_delete") {
                out.on_delete = Some(fk_action(&meta)?);
            } else if p.is_ident("on_update") {
                out.on_update = Some(fk_action(&meta)?);
            } else if p.is_ident("skip") {
                out.skip = true;
            } else if let Some(role) = ROLES.iter().find(|r| p.is_ident(r)) {
                if let Some((_, first)) = out.role {
                    return Err(meta.error(format!("a field has one role: `{first}` or `{role}`")));
                }
                out.role = Some((span, role));
            } else {
                return Err(meta.error(
                    "unknown field attribute; expected one of: primary_key, auto, column, unique, index, default, max_length, sql_type, references, ref_column, on_delete, on_update, skip, version, created_at, updated_at, soft_delete",
                ));
            }
            Ok(())
        });
        if let Err(e) = result {
            cx.push(e);
        }
    }
    out
}
