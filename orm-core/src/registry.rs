//! Every model of the program, registered by `#[derive(Model)]`, so that the ORM can
//! find the models that depend on another through foreign keys (for recursive deletes)
//! without the user listing them.

use crate::meta::{ColumnMeta, TableMeta};

/// One registered model. Generated code submits one per `#[derive(Model)]`.
#[doc(hidden)]
pub struct ModelEntry {
    /// The model's table.
    pub table: &'static TableMeta,
}

inventory::collect!(ModelEntry);

/// Every model in the program.
pub fn models() -> impl Iterator<Item = &'static TableMeta> {
    inventory::iter::<ModelEntry>.into_iter().map(|e| e.table)
}

/// The models with a foreign key to `table`, each with the referencing column.
pub fn dependents_of(table: &TableMeta) -> Vec<(&'static TableMeta, &'static ColumnMeta)> {
    let mut out = Vec::new();
    for model in models() {
        for column in model.columns {
            if let Some(fk) = &column.references {
                if (fk.table)().same_table(table) {
                    out.push((model, column));
                }
            }
        }
    }
    out
}

impl std::fmt::Debug for ModelEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelEntry")
            .field("table", &self.table.name)
            .finish()
    }
}
