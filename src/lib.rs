//! Quire: a self-hosted collaborative document editor. Modules are listed in reading order:
//! configuration, the pure OT core, storage, authentication, the HTTP edge, and the server that wires them.

pub mod config;
pub mod ot;
pub mod store;
pub mod auth;
pub mod http;
pub mod server;
pub mod cli;
