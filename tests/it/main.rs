//! The one integration test binary: each module tests one area against a real server.
mod ot_support;
mod ot_quill_suite;
mod ot_vectors;
