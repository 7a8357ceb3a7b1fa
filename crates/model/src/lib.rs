//! costform-model owns what costform reads and writes as files: definition
//! files (raw YAML types and validated domain types), templating, validation
//! diagnostics, and the state and plan file types with their JSON Schemas.
//!
//! It must not do network I/O, parse command lines or print: the CLI does.

pub mod budget;
pub mod cost_rows;
pub mod dates;
pub mod diagnostic;
mod for_each;
pub mod handle;
pub mod ids;
pub mod kinds;
pub mod load;
pub mod lookup;
mod node;
mod parse;
pub mod plan;
pub mod printable;
pub mod raw;
mod rendering;
pub mod request;
pub mod result_body;
pub mod schema;
mod shape;
pub mod state;
mod suggest;
pub mod template;
mod template_limits;
pub mod value;
mod variables;

pub use dates::parse_now;
pub use diagnostic::{Diagnostic, Diagnostics, Severity};
pub use load::{Definitions, LoadOptions, ReportDefinition, load, load_counting};
pub use schema::{definitions_schema, plan_schema, state_schema};
