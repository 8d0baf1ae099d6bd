//! orm-manager
