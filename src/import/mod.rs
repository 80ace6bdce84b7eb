//! Bringing what admins already have into the state: CSV files (`csv`) and
//! live sites (`live`).

pub mod attributes;
pub mod csv;
pub mod live;
pub mod prune;
pub mod roundtrip;
pub mod workspaces;
