//! The one integration test binary: each module tests one area against a real server.
