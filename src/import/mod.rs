//! Bringing what admins already have into the state: CSV files (`csv`).

pub mod csv;
