//! The one integration test binary: each module tests one area against a real server.
mod ot_support;
mod ot_quill_suite;
mod ot_vectors;
mod ot_trace;
mod ot_decode;
mod ot_document;
mod ot_props;
mod support; // the harness: TestServer, TestUser, TestPg, the real binary as a child process
mod accounts; // sign-up, log-in, sessions, CSRF, throttling, sign-up policy, API tokens, JSON errors
mod cli; // `quire user ...` against the database of a running server
mod config; // precedence through the real binary, exit status 2, config.example.toml matches the defaults
mod store; // the store's contract, run against SQLite and PostgreSQL
mod binary; // the real binary with no configuration: pages, headers, assets, metrics, SIGTERM
mod tidy; // source rules: `//!` headers, module boundaries, mirrored migrations
mod hub_client; // TestSocket (raw frames) and SimClient (the client state machine on the Rust OT)
mod hub_sim; // the randomized multi-client simulation
mod hub_convergence; // clients converge with the server and the database; the wrong-priority negative control
mod hub_protocol; // PROTOCOL.md section 3, table-driven: every message type and error code over a real WebSocket
mod hub_presence; // selections move with ops (own vs. others), late joiners, sel null on leave
mod hub_durability; // the real binary: clean restart, kill -9 mid-stream keeps every acked op, clients resume
mod hub_rounds; // issue 17: messages queued behind a failed commit see only the committed head
mod hub_js_client; // the browser OT client (node, no DOM) converges with the real server
mod sharing_matrix; // issue 6: role-by-action matrix over HTTP and the WebSocket, editors_can_share, no_account invites
mod history; // versions on leave and every N ops, pruning, named versions, restore
mod sharing_live; // issue 6: sharing changes reach open sockets: removal, role frames, revoked links, trash, ownership transfer
mod sharing_links; // hello after an access change, explicit roles beat links, anonymous guests
mod convert; // issue 7: export and import (text, Markdown, HTML), golden files, the import route, quire compact and doctor
mod convert_tables; // issue 16: tables in HTML, Markdown and text, round trips, ragged and odd tables from elsewhere
mod images; // issue 16: uploads (types by content, SVG, limits, quota, roles), serving to members only, exports and imports with images, pruning
mod convert_reference; // issue 18: HTML export against Quill's getSemanticHTML, Markdown against markdown-rs (CommonMark)
mod bench_smoke; // issue 8: the quire-bench load generator, a few seconds against a spawned server and its echo fixture
mod limits; // issue 17: quotas per user and per document (documents, named versions, versions per minute)
mod edge; // issue 17: header-read timeout, Origin against server.public_url
mod unprivileged; // issue 17: random messages from viewers, commenters and link visitors change nothing and disturb nobody
mod cluster_client; // issue 12: Typist, a client that enters a cluster through any node and follows redirects
mod cluster; // issue 12: redirect to the owner, hand-off when a node joins, fencing of a paused owner
mod checker; // issue 13: the history checker: acked ops in the log once and in order, content = replay = every client
mod faults; // issue 13: kill -9, pauses, rolling restarts under typing, and the checker's negative control
mod db_tools; // issue 20: quire db copy from SQLite to PostgreSQL, and quire backup under load
mod guests; // hardening, defect 5: guests are limited, have no password, and get only what their link gives
mod config_errors; // issue 18: bad server.public_url, database.url and storage.sync: exit 2 naming the key
mod hub_supersede; // issue 18: two sockets with one client id: the old one is closed and ignored, its caret hidden
mod hub_resend; // issue 18: an op in flight at a kill -9, committed or not, is applied once when resent with its seq
mod hub_coalesce; // issue 21: a busy document's rounds are held and reach each socket in one write; 0 sends at once
mod restore; // issue 18: restoring while others type, and the history page's restore form (CSRF, editors only)
mod exports; // issue 18: every export format and alias by owner, viewer and guest; unknown formats, strangers
mod dashboard_forms; // issue 18: the dashboard's form actions with the page's CSRF token and without it
mod pages_errors; // issue 19: the 404 page for missing and forbidden documents, wrong password focus, taken e-mail
mod admin_page; // issue 15: the admin page: hidden from non-admins, users search, disable and enable, invitations, counts
mod account_deletion;
mod mentions; // issue 14: mentions on comments, notifications (list, unread, mark read, access), the dashboard's badge and page
mod authorship; // issue 14: every character's author after random concurrent typing, compaction and a restart; who may ask
mod suggestions; // issue 14: suggestion mode: commenters suggest, editors accept and reject, forged marks, exports, restore, roles
mod comments; // issue 14: anchors follow random edits over real sockets, through restarts and compaction; who may comment
mod account_page; // issue 15: the account page: name, password, sessions and API tokens, CSRF, escaping
mod mail; // issue 15, e-mail: password reset by link, admin reset and invitations, share notices, mail off, a dead SMTP server
mod oidc; // issue 15: OpenID Connect single sign-on against a test provider on loopback: accounts, links, refusals
