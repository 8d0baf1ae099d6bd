//! orm-mysql
