//! Code generation from a checked model.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ast::{field_name, Field, Model};

pub fn expand(model: &Model) -> TokenStream {
    let checks = checks(model);
    let constants = column_constants(model);
    let constructor = constructor(model);
    let model_impl = model_impl(model);
    let from_row = from_row_impl(model);
    let ident = &model.ident;
    let krate = &model.krate;
    // With `#[orm(hooks)]` the user writes `impl Model` with the hooks.
    let model_trait = match model.hooks {
        Some(span) => quote_spanned! {span=>
            const _: fn() = || {
                fn hooks_need_impl_model<T: #krate::Model>() {}
                hooks_need_impl_model::<#ident>();
            };
        },
        None => quote!(impl #krate::Model for #ident {}),
    };
    quote! {
        #[allow(clippy::all)]
        const _: () = { #checks };

        impl #ident {
            #constants
            #constructor
        }

        #model_impl
        #model_trait
        #from_row

        #krate::__private::inventory::submit! {
            #krate::__private::ModelEntry { table: <#ident as #krate::Table>::TABLE }
        }
    }
}

fn columns(model: &Model) -> impl Iterator<Item = &Field> {
    model.fields.iter().filter(|f| f.is_column())
}

/// Compile-time checks, each spanned at the user's tokens so the error points there.
fn checks(model: &Model) -> TokenStream {
    let krate = &model.krate;
    let mut out = TokenStream::new();
    for f in &model.fields {
        let ty = &f.ty;
        if !f.is_column() {
            out.extend(quote_spanned! {ty.span()=>
                let _ = <#ty as ::core::default::Default>::default;
            });
            continue;
        }
        out.extend(quote_spanned! {ty.span()=>
            let _ = <#ty as #krate::ColumnType>::NULLABLE;
        });
        if let Some(span) = f.attrs.auto {
            out.extend(quote_spanned! {span=>
                let _ = <#ty as #krate::AutoKey>::from_generated;
            });
        }
        // The same paths, at the same span, as `maintain` uses: the compiler reports one
        // error for both.
        let role_check = match f.attrs.role.map(|(_, role)| role) {
            Some("version") => next_version(krate, ty),
            Some("soft_delete") => {
                quote_spanned!(ty.span()=> <#ty as #krate::SoftDeleteStamp>::deleted_now)
            }
            Some(_) => from_now(krate, ty),
            None => TokenStream::new(),
        };
        if !role_check.is_empty() {
            out.extend(quote!(let _ = #role_check;));
        }
        if let Some((span, _)) = f.attrs.max_length {
            out.extend(quote_spanned! {span=>
                {
                    fn max_length_needs_text<T: #krate::Text>() {}
                    max_length_needs_text::<<#ty as #krate::ColumnType>::Base>();
                }
            });
        }
    }
    quote! { fn __orm_checks() { #out } }
}

fn constant_ident(f: &Field) -> syn::Ident {
    format_ident!(
        "{}",
        field_name(&f.ident).to_uppercase(),
        span = f.ident.span()
    )
}

fn column_constants(model: &Model) -> TokenStream {
    let krate = &model.krate;
    let ident = &model.ident;
    let vis = &model.vis;
    let table = &model.table;
    columns(model)
        .map(|f| {
            let name = constant_ident(f);
            let ty = &f.ty;
            let column = &f.column;
            let doc = format!("The `{column}` column.");
            quote! {
                #[doc = #doc]
                #vis const #name: #krate::Column<#ident, #ty> = #krate::Column::new(#table, #column);
            }
        })
        .collect()
}

/// `Model::new(..)` taking every field but the auto key and the skipped ones.
fn constructor(model: &Model) -> TokenStream {
    if !model.constructor {
        return TokenStream::new();
    }
    let vis = &model.vis;
    // The columns the ORM maintains are left to it, as the auto key is.
    let takes = |f: &&Field| f.is_column() && f.attrs.auto.is_none() && f.attrs.role.is_none();
    let params = model.fields.iter().filter(takes).map(|f| {
        let (ident, ty) = (&f.ident, &f.ty);
        if is_primitive_number(ty) {
            // `impl Into<i16>` would make a literal `2` fall back to i32 and fail.
            quote! { #ident: #ty }
        } else {
            quote! { #ident: impl ::core::convert::Into<#ty> }
        }
    });
    let inits = model.fields.iter().map(|f| {
        let ident = &f.ident;
        if takes(&f) {
            quote! { #ident: ::core::convert::Into::into(#ident) }
        } else {
            quote! { #ident: ::core::default::Default::default() }
        }
    });
    let doc = format!(
        "A new `{}` not yet saved; the database fills in the auto-increment key on insert.",
        model.ident
    );
    quote! {
        #[doc = #doc]
        #[allow(clippy::too_many_arguments)]
        #vis fn new(#(#params),*) -> Self {
            Self { #(#inits),* }
        }
    }
}

/// `i16`, `f64`, `bool`, ... or `Option` of one.
fn is_primitive_number(ty: &syn::Type) -> bool {
    const PRIMITIVES: &[&str] = &[
        "i8", "i16", "i32", "i64", "i128", "u8", "u16", "u32", "u64", "u128", "f32", "f64", "bool",
    ];
    let syn::Type::Path(path) = ty else {
        return false;
    };
    let Some(last) = path.path.segments.last() else {
        return false;
    };
    if last.ident == "Option" {
        if let syn::PathArguments::AngleBracketed(args) = &last.arguments {
            if let Some(syn::GenericArgument::Type(inner)) = args.args.first() {
                return is_primitive_number(inner);
            }
        }
        return false;
    }
    PRIMITIVES.iter().any(|p| last.ident == p)
}

fn fk_action(krate: &syn::Path, action: &Option<(Span, String)>) -> TokenStream {
    let variant = match action.as_ref().map(|(_, a)| a.as_str()) {
        Some("restrict") => quote!(Restrict),
        Some("cascade") => quote!(Cascade),
        Some("set_null") => quote!(SetNull),
        Some("set_default") => quote!(SetDefault),
        _ => quote!(NoAction),
    };
    quote!(#krate::FkAction::#variant)
}

fn option_str(value: Option<String>) -> TokenStream {
    match value {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}

fn column_meta(krate: &syn::Path, f: &Field) -> TokenStream {
    let ty = &f.ty;
    let a = &f.attrs;
    let name = &f.column;
    let field = field_name(&f.ident);
    let sql_type = if let Some((_, n)) = a.max_length {
        quote!(#krate::SqlType::Varchar(#n))
    } else if let Some(t) = &a.sql_type {
        quote!(#krate::SqlType::Custom(#t))
    } else {
        quote_spanned!(ty.span()=> <<#ty as #krate::ColumnType>::Base as #krate::Field>::SQL_TYPE)
    };
    let nullable = quote_spanned!(ty.span()=> <#ty as #krate::ColumnType>::NULLABLE);
    let primary_key = f.primary_key;
    let auto = a.auto.is_some();
    let (unique, index) = (a.unique, a.index);
    let default = option_str(a.default.as_ref().map(|d| d.value()));
    let references = match &a.references {
        Some(target) => {
            let column = option_str(a.ref_column.as_ref().map(|c| c.value()));
            let on_delete = fk_action(krate, &a.on_delete);
            let on_update = fk_action(krate, &a.on_update);
            let table = quote_spanned!(target.span()=> #krate::__private::table_of::<#target>);
            quote! {
                ::core::option::Option::Some(#krate::ForeignKeyMeta {
                    table: #table,
                    column: #column,
                    on_delete: #on_delete,
                    on_update: #on_update,
                })
            }
        }
        None => quote!(::core::option::Option::None),
    };
    let role = match a.role.map(|(_, r)| r) {
        Some("version") => quote!(Version),
        Some("created_at") => quote!(CreatedAt),
        Some("updated_at") => quote!(UpdatedAt),
        Some("soft_delete") => quote!(SoftDelete),
        _ => quote!(Data),
    };
    quote! {
        #krate::ColumnMeta {
            name: #name,
            field: #field,
            sql_type: #sql_type,
            nullable: #nullable,
            primary_key: #primary_key,
            auto: #auto,
            unique: #unique,
            index: #index,
            default: #default,
            references: #references,
            role: #krate::ColumnRole::#role,
        }
    }
}

fn model_impl(model: &Model) -> TokenStream {
    let krate = &model.krate;
    let ident = &model.ident;
    let model_name = ident.to_string();
    let table = &model.table;
    let schema = option_str(model.schema.clone());
    let hooks = model.hooks.is_some();
    let maintained = maintained(model);
    let metas = columns(model).map(|f| column_meta(krate, f));
    let indexes = model.indexes.iter().map(
        |(unique, cols)| quote!(#krate::IndexMeta { columns: &[#(#cols),*], unique: #unique }),
    );
    let values = columns(model).enumerate().map(|(i, f)| {
        let (field, ty) = (&f.ident, &f.ty);
        let value = quote_spanned!(ty.span()=> <#ty as #krate::ColumnType>::to_value(&self.#field));
        quote!(#i => #value)
    });
    let set_auto = match columns(model).find(|f| f.attrs.auto.is_some()) {
        Some(f) => {
            let (field, ty) = (&f.ident, &f.ty);
            quote! {
                self.#field = <#ty as #krate::AutoKey>::from_generated(key)?;
                ::core::result::Result::Ok(())
            }
        }
        None => quote! {
            let _ = key;
            ::core::result::Result::Ok(())
        },
    };
    quote! {
        impl #krate::Table for #ident {
            const TABLE: &'static #krate::TableMeta = &#krate::TableMeta {
                model: #model_name,
                name: #table,
                schema: #schema,
                columns: &[#(#metas),*],
                indexes: &[#(#indexes),*],
                hooks: #hooks,
            };

            fn column_value(&self, index: usize) -> #krate::Value {
                match index {
                    #(#values,)*
                    _ => #krate::Value::Null,
                }
            }

            fn set_auto_key(&mut self, key: i64) -> #krate::Result<()> {
                #set_auto
            }

            #maintained
        }
    }
}

fn from_now(krate: &syn::Path, ty: &syn::Type) -> TokenStream {
    quote_spanned!(ty.span()=> <#ty as #krate::Timestamp>::from_now)
}

fn next_version(krate: &syn::Path, ty: &syn::Type) -> TokenStream {
    quote_spanned!(ty.span()=> <#ty as #krate::VersionCounter>::next_version)
}

/// `maintain` for the fields the ORM maintains; nothing without any.
fn maintained(model: &Model) -> TokenStream {
    let krate = &model.krate;
    let field = |role: &str| columns(model).find(|f| f.attrs.role.is_some_and(|(_, r)| r == role));
    let stamp = |f: Option<&Field>| match f {
        Some(f) => {
            let from_now = from_now(krate, &f.ty);
            let ident = &f.ident;
            quote!(self.#ident = #from_now(now);)
        }
        None => TokenStream::new(),
    };
    let (created, updated) = (stamp(field("created_at")), stamp(field("updated_at")));
    let version = field("version").map(|f| {
        let next = next_version(krate, &f.ty);
        let ident = &f.ident;
        quote!(self.#ident = #next(&self.#ident);)
    });
    let mut out = TokenStream::new();
    if !created.is_empty() || !updated.is_empty() || version.is_some() {
        let now = if created.is_empty() && updated.is_empty() {
            TokenStream::new()
        } else {
            quote!(let now = #krate::__private::now();)
        };
        out.extend(quote! {
            fn maintain(&mut self, write: #krate::Maintain) {
                match write {
                    #krate::Maintain::Insert => {
                        #now
                        #created
                        #updated
                    }
                    #krate::Maintain::Update => {
                        #now
                        #updated
                    }
                    #krate::Maintain::VersionChecked => {
                        #version
                    }
                }
            }
        });
    }
    out
}

/// A struct literal's field initializers: `column(field, i)` for the `i`-th column field,
/// `Default::default()` for the skipped ones.
fn field_inits(
    model: &Model,
    mut column: impl FnMut(&Field, usize) -> TokenStream,
) -> Vec<TokenStream> {
    let mut index = 0usize;
    model
        .fields
        .iter()
        .map(|f| {
            let field = &f.ident;
            if !f.is_column() {
                return quote!(#field: ::core::default::Default::default());
            }
            index += 1;
            let init = column(f, index - 1);
            quote!(#field: #init)
        })
        .collect()
}

fn from_row_impl(model: &Model) -> TokenStream {
    let krate = &model.krate;
    let ident = &model.ident;
    let model_name = ident.to_string();
    let width = columns(model).count();
    let inits = field_inits(model, |f, i| {
        let ty = &f.ty;
        let name = field_name(&f.ident);
        let decode =
            quote_spanned!(ty.span()=> <#ty as #krate::ColumnType>::decode(row, base + #i));
        quote!(#decode.map_err(|e| e.in_field(#model_name, #name))?)
    });
    quote! {
        impl #krate::FromRow for #ident {
            #[inline]
            fn from_row<R: #krate::RowReader + ?Sized>(row: &R, cursor: &mut usize) -> #krate::Result<Self> {
                let base = *cursor;
                *cursor += #width;
                ::core::result::Result::Ok(Self { #(#inits),* })
            }

            fn from_named_row<R: #krate::RowReader + ?Sized>(row: &R) -> #krate::Result<Self> {
                let columns = <Self as #krate::Table>::TABLE.columns;
                let named = #krate::__private::NamedRow::new(row, #model_name, columns)?;
                Self::from_row(&named, &mut 0)
            }
        }

        impl #krate::OptionalFromRow for #ident {
            fn from_row_optional<R: #krate::RowReader + ?Sized>(
                row: &R,
                cursor: &mut usize,
            ) -> #krate::Result<::core::option::Option<Self>> {
                #krate::__private::optional_model::<Self, R>(row, cursor)
            }
        }
    }
}
