//! Pure Delta operational transformation with quill-delta 5.1.0 semantics; no I/O.
