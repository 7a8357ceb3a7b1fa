//! costform-postgres: the state a team shares, in PostgreSQL. It implements
//! the planner's [`StateBackend`](costform_planner::StateBackend) with one
//! schema of tables (states with every previous serial, the token journal,
//! the lock holder, cost rows), a session advisory lock that the server
//! releases when a run dies, and rustls for TLS.
//!
//! It is its own crate so that the database driver and the TLS stack stay
//! out of the planner. It never prints, and never puts the password in a
//! location, message or log.

mod backend;
mod connection;
mod json_text;
mod pgpass;
mod schema;
mod session;
mod settings;
mod tls;

pub use backend::PostgresBackend;
pub use schema::SCHEMA_VERSION;
