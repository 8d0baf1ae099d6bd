//! orm-postgres
