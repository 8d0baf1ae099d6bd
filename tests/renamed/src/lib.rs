//! A user crate that depends on the facade as `db` (see its Cargo.toml): the derive's
//! generated code must name the core through `::db::orm_core`.

use db::prelude::*;

/// A model derived through the renamed facade.
#[derive(Model, Debug, PartialEq)]
pub struct Note {
    #[orm(primary_key, auto)]
    pub id: i64,
    #[orm(max_length = 20)]
    pub title: String,
}

/// A model that names the core's path itself, as serde's `#[serde(crate = "...")]` does
/// (for crates that re-export the ORM under a path of their own).
#[derive(Model, Debug, PartialEq)]
#[orm(crate = "::db::orm_core")]
pub struct Label {
    #[orm(primary_key, auto)]
    pub id: i64,
    pub text: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_derived_through_a_renamed_facade_round_trips() -> Result<(), Error> {
        let database = SqliteDatabase::new(SqliteConfig::memory())?;
        Note::create_table(&database, false)?;
        let keys = Note::new("renamed")
            .insert()
            .execute_returning_keys_sync(&database)?;
        let stored = Note::select()
            .where_(Note::TITLE.eq("renamed"))
            .fetch_one_sync(&database)?;
        assert_eq!(
            stored,
            Note {
                id: keys[0],
                title: "renamed".into()
            }
        );
        Ok(())
    }
}
