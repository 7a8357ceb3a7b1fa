//! One module per subcommand.

pub mod apply;
pub mod check;
pub mod completions;
pub mod costs;
pub mod demo;
pub mod emulator;
pub mod fetch;
pub mod force_unlock;
pub mod man;
pub mod plan;
pub mod render;
pub mod schema;
pub mod show;
pub mod state;
pub mod validate;
