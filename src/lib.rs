//! Quire: a self-hosted collaborative document editor. Modules are listed in reading order:
//! configuration, the pure OT core, storage, authentication, the HTTP edge, and the server that wires them.

pub mod auth;
pub mod cli;
pub mod config;
pub mod http;
pub mod hub;
pub mod ot;
pub mod protocol;
pub mod server;
pub mod store;
