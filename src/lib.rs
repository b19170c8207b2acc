//! Quire: a self-hosted collaborative document editor. Modules are listed in reading order:
//! configuration, the pure OT core and the wire format, storage, authentication, outgoing e-mail, cluster membership,
//! the document hubs, the HTTP edge, the server that wires them, and the command line.

pub mod config;
pub mod ot;
pub mod convert;
pub mod protocol;
pub mod store;
pub mod auth;
pub mod mail;
pub mod cluster;
pub mod hub;
pub mod http;
pub mod server;
pub mod cli;
