//! The emulator over real HTTP, as costform's client (reqwest) sees it.

mod auth;
mod conformance;
mod faults;
mod lifecycle;
mod log;
mod projects;
mod rate_limit;
mod results;
mod support;
mod validation;
