//! The checked model: a struct and its attributes, validated together.

use proc_macro2::Span;
use syn::{Data, DeriveInput, Fields, Ident, LitStr, Path, Type, Visibility};

use crate::attr::{self, Ctxt, FieldAttrs};

pub struct Model {
    pub ident: Ident,
    pub vis: Visibility,
    pub table: String,
    pub schema: Option<String>,
    pub krate: Path,
    pub fields: Vec<Field>,
    pub indexes: Vec<(bool, Vec<String>)>,
    pub constructor: bool,
    /// `#[orm(hooks)]`: the user writes `impl Model`.
    pub hooks: Option<Span>,
}

pub struct Field {
    pub ident: Ident,
    pub ty: Type,
    pub column: String,
    pub attrs: FieldAttrs,
    /// Set by a struct-level `primary_key(..)` too.
    pub primary_key: bool,
}

impl Field {
    pub fn is_column(&self) -> bool {
        !self.attrs.skip
    }
}

/// `PageBlock` -> `page_block`, `HTTPRequest` -> `http_request`.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &ch) in chars.iter().enumerate() {
        if ch.is_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|c| c.is_lowercase());
            let prev_upper = i > 0 && chars[i - 1].is_uppercase();
            if i > 0 && (prev_lower || (prev_upper && next_lower)) {
                out.push('_');
            }
            out.extend(ch.to_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

/// The field's name without a raw-identifier prefix.
pub fn field_name(ident: &Ident) -> String {
    let s = ident.to_string();
    s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
}

/// The path of orm-core as the user's crate sees it: through `orm-core` when it depends
/// on it directly, else through the `orm-manager` facade, under whatever name the
/// manifest gives either (read by `proc-macro-crate`, so comments and renames do not
/// matter). `#[orm(crate = "...")]` overrides it.
fn default_crate_path() -> Path {
    use proc_macro_crate::{crate_name, FoundCrate};
    let ident =
        |name: &str| syn::Ident::new(&name.replace('-', "_"), proc_macro2::Span::call_site());
    match crate_name("orm-core") {
        Ok(FoundCrate::Name(name)) => {
            let name = ident(&name);
            return syn::parse_quote!(::#name);
        }
        Ok(FoundCrate::Itself) => return syn::parse_quote!(::orm_core),
        Err(_) => {}
    }
    match crate_name("orm-manager") {
        Ok(FoundCrate::Name(name)) => {
            let name = ident(&name);
            syn::parse_quote!(::#name::orm_core)
        }
        Ok(FoundCrate::Itself) => syn::parse_quote!(crate::orm_core),
        Err(_) => syn::parse_quote!(::orm_core),
    }
}

pub fn parse(cx: &mut Ctxt, input: &DeriveInput) -> Option<Model> {
    let model_attrs = attr::model_attrs(cx, &input.attrs);
    if !input.generics.params.is_empty() {
        cx.error(
            input.generics.params[0].span_of(),
            "#[derive(Model)] does not support generic structs",
        );
    }
    let named = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => named,
            _ => {
                cx.error(
                    input.ident.span(),
                    "#[derive(Model)] needs a struct with named fields",
                );
                return None;
            }
        },
        _ => {
            cx.error(
                input.ident.span(),
                "#[derive(Model)] can only be used on a struct",
            );
            return None;
        }
    };

    let mut fields: Vec<Field> = named
        .named
        .iter()
        .filter_map(|f| {
            let ident = f.ident.clone()?;
            let attrs = attr::field_attrs(cx, &f.attrs);
            let column = attrs
                .column
                .as_ref()
                .map(LitStr::value)
                .unwrap_or_else(|| field_name(&ident));
            let primary_key = attrs.primary_key.is_some();
            Some(Field {
                ident,
                ty: f.ty.clone(),
                column,
                attrs,
                primary_key,
            })
        })
        .collect();

    check_fields(cx, &fields);
    apply_struct_primary_key(cx, &model_attrs.primary_key, &mut fields);
    let resolve = |cx: &mut Ctxt, list: &[Ident]| -> Vec<String> {
        list.iter()
            .filter_map(
                |id| match fields.iter().find(|f| f.ident == *id && f.is_column()) {
                    Some(f) => Some(f.column.clone()),
                    None => {
                        cx.error(
                            id.span(),
                            format!("no column field named `{id}` in this struct"),
                        );
                        None
                    }
                },
            )
            .collect()
    };
    let mut indexes = Vec::new();
    for list in &model_attrs.unique {
        indexes.push((true, resolve(cx, list)));
    }
    for list in &model_attrs.index {
        indexes.push((false, resolve(cx, list)));
    }

    Some(Model {
        ident: input.ident.clone(),
        vis: input.vis.clone(),
        table: model_attrs
            .table
            .as_ref()
            .map(LitStr::value)
            .unwrap_or_else(|| snake_case(&input.ident.to_string())),
        schema: model_attrs.schema.as_ref().map(LitStr::value),
        krate: model_attrs.crate_path.unwrap_or_else(default_crate_path),
        fields,
        indexes,
        constructor: !model_attrs.no_constructor,
        hooks: model_attrs.hooks,
    })
}

trait SpanOf {
    fn span_of(&self) -> Span;
}

impl<T: syn::spanned::Spanned> SpanOf for T {
    fn span_of(&self) -> Span {
        self.span()
    }
}

fn check_fields(cx: &mut Ctxt, fields: &[Field]) {
    let mut pk_seen: Option<&Ident> = None;
    let mut columns: Vec<&str> = Vec::new();
    let mut roles: Vec<&str> = Vec::new();
    for f in fields {
        let a = &f.attrs;
        if let Some((span, role)) = a.role {
            if roles.contains(&role) {
                cx.error(
                    span,
                    format!("two `{role}` fields; a model has at most one"),
                );
            }
            roles.push(role);
            if a.primary_key.is_some() || a.skip {
                cx.error(
                    span,
                    format!("a `{role}` field cannot be a primary key or skipped"),
                );
            }
        }
        if a.skip {
            let column_attr = a.primary_key.is_some()
                || a.auto.is_some()
                || a.column.is_some()
                || a.unique
                || a.index
                || a.default.is_some()
                || a.max_length.is_some()
                || a.sql_type.is_some()
                || a.references.is_some()
                || a.role.is_some();
            if column_attr {
                cx.error(
                    f.ident.span(),
                    "a `skip` field is not a column and takes no column attributes",
                );
            }
            continue;
        }
        if let Some(span) = a.primary_key {
            if let Some(first) = pk_seen {
                cx.error(
                    span,
                    format!(
                        "two primary keys (`{first}` and `{}`); for a composite key write #[orm(primary_key({first}, {}))] on the struct",
                        f.ident, f.ident
                    ),
                );
            }
            pk_seen = Some(&f.ident);
        }
        if let Some(span) = a.auto {
            if a.primary_key.is_none() {
                cx.error(
                    span,
                    "`auto` is only for a primary key: write #[orm(primary_key, auto)]",
                );
            }
            if a.default.is_some() {
                cx.error(
                    span,
                    "an `auto` key is generated by the database and takes no `default`",
                );
            }
        }
        if a.max_length.is_some() && a.sql_type.is_some() {
            if let Some((span, _)) = a.max_length {
                cx.error(span, "`max_length` and `sql_type` conflict: use one");
            }
        }
        if a.references.is_none() {
            if let Some(c) = &a.ref_column {
                cx.error(c.span(), "`ref_column` needs `references = Model`");
            }
            for (span, _) in a.on_delete.iter().chain(a.on_update.iter()) {
                cx.error(*span, "`on_delete` / `on_update` need `references = Model`");
            }
        }
        if columns.contains(&f.column.as_str()) {
            let span = a
                .column
                .as_ref()
                .map(|c| c.span())
                .unwrap_or_else(|| f.ident.span());
            cx.error(span, format!("duplicate column name `{}`", f.column));
        }
        columns.push(&f.column);
    }
}

fn apply_struct_primary_key(cx: &mut Ctxt, pk: &Option<(Span, Vec<Ident>)>, fields: &mut [Field]) {
    let Some((span, names)) = pk else { return };
    if let Some(f) = fields.iter().find(|f| f.attrs.primary_key.is_some()) {
        cx.error(
            *span,
            format!(
                "two primary keys: the struct declares primary_key(..) and field `{}` is marked primary_key",
                f.ident
            ),
        );
        return;
    }
    for name in names {
        match fields
            .iter_mut()
            .find(|f| f.ident == *name && f.is_column())
        {
            Some(f) => f.primary_key = true,
            None => cx.error(
                name.span(),
                format!("no column field named `{name}` in this struct"),
            ),
        }
    }
}
