//! costform-model owns what costform reads and writes as files: definition
//! files (raw YAML types and validated domain types), templating, validation
//! diagnostics, and the state and plan file types with their JSON Schemas.
//!
//! It must not do network I/O, parse command lines or print: the CLI does.

pub mod ids;
pub mod plan;
pub mod request;
pub mod state;
