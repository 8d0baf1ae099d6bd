//! Shared behaviour suite (see tests/).
