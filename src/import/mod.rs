//! Bringing what admins already have into the state: CSV files (`csv`) and
//! live sites (`live`).

pub mod csv;
pub mod live;
pub mod roundtrip;
