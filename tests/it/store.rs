//! The store's contract, each test body run twice: against SQLite in a temp file and against a throwaway PostgreSQL.

use std::future::Future;

use quire::{
    config::{DatabaseUrl, SyncMode},
    store::{
        DocScope, GroupCommitter, NewMessage, NewOp, NewThread, NewVersion, OwnedDocuments, Role,
        SessionUse, Store, StoreError, StoredAnchor, User, now_ms,
    },
};

use crate::support::TestPg;

/// Instantiates `mod $name { sqlite, postgres }` running the async body `$name(store)` on each backend.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::with_sqlite(super::$name).await;
            }

            #[tokio::test]
            #[cfg_attr(quire_no_postgres, ignore = "PostgreSQL is not installed; ./scripts/test installs it")]
            async fn postgres() {
                super::with_postgres(super::$name).await;
            }
        }
    )*};
}

both_backends!(
    users,
    sessions,
    the_account_pages_session_changes,
    deleting_an_account_hands_over_or_deletes_its_documents,
    api_tokens,
    invitations_are_used_with_the_account_they_make,
    documents_and_roles,
    joining_through_a_link,
    append_ops_moves_head,
    duplicate_rev_conflicts_and_writes_nothing,
    last_seqs_per_client,
    versions_prune_and_thin,
    a_late_version_does_not_move_current_backwards,
    group_commit_isolates_a_conflicting_document,
    group_commit_writes_every_document,
    group_commit_larger_than_one_statement,
    group_commit_refuses_a_moved_head,
    group_committer_isolates_a_conflicting_document,
    reopening_runs_no_migration_twice,
    comment_threads_messages_and_anchors,
);

async fn with_sqlite<F: Future<Output = ()>>(body: impl FnOnce(Store) -> F) {
    let (_dir, store) = sqlite_store().await;
    body(store.clone()).await;
    store.close().await;
}

/// A store on a fresh SQLite file, `quire.db` in the returned temp dir.
pub(crate) async fn sqlite_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&sqlite_url(dir.path()), 4, SyncMode::Normal)
        .await
        .expect("open SQLite");
    (dir, store)
}

fn sqlite_url(dir: &std::path::Path) -> DatabaseUrl {
    DatabaseUrl::Sqlite(format!("sqlite://{}", dir.join("quire.db").display()))
}

/// A store on a fresh SQLite file with user `ann` and her document `d1`.
async fn sqlite_store_with_d1() -> (tempfile::TempDir, Store) {
    let (dir, store) = sqlite_store().await;
    ann_with_docs(&store, &["d1"]).await;
    (dir, store)
}

/// User `ann` and her documents `ids`, all empty.
pub(crate) async fn ann_with_docs(store: &Store, ids: &[&str]) {
    user(store, "ann").await;
    for id in ids {
        store.create_document(id, "Doc", "ann").await.unwrap();
    }
}

/// With automatic checkpoints off (they stalled commits), the background checkpointer must still copy the WAL
/// into the database file: a copy of `quire.db` taken while Quire runs holds recent edits, and the WAL does not
/// grow without bound.
#[tokio::test]
async fn sqlite_wal_is_checkpointed_in_the_background() {
    let (dir, store) = sqlite_store_with_d1().await;
    let db = dir.path().join("quire.db");
    let size_before = std::fs::metadata(&db).unwrap().len();
    let body = "x".repeat(1000);
    let batch: Vec<NewOp> = (0..2000)
        .map(|rev| NewOp {
            op_json: format!(r#"[{{"insert":"{body}"}}]"#),
            ..op(rev, "c1", rev + 1)
        })
        .collect();
    store.append_ops("d1", &batch).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let size = std::fs::metadata(&db).unwrap().len();
        if size > size_before + 2_000_000 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "2 MB of ops still only in the WAL after 10 s (database file {size} bytes)"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    store.close().await;
}

/// A clean stop leaves the whole document in `quire.db`: the writer thread's connection is closed before the
/// pool's last one, which checkpoints the WAL and removes it (a copy of the file alone is then a full backup).
#[tokio::test]
async fn closing_the_store_leaves_no_wal_behind() {
    let (dir, store) = sqlite_store_with_d1().await;
    let committer = GroupCommitter::start(store.clone(), Default::default());
    committer
        .append("d1", vec![op(0, "c1", 1), op(1, "c1", 2)])
        .await
        .unwrap();
    store.close().await;
    let wal = dir.path().join("quire.db-wal");
    let wal_len = std::fs::metadata(&wal).map_or(0, |meta| meta.len());
    assert_eq!(wal_len, 0, "{} is left with {wal_len} bytes", wal.display());
    let reopened = Store::open(&sqlite_url(dir.path()), 4, SyncMode::Normal)
        .await
        .unwrap();
    assert_eq!(reopened.count_ops("d1").await.unwrap(), 2);
    assert!(
        committer.append("d1", vec![op(2, "c1", 3)]).await.is_err(),
        "the stopped writer refuses further writes"
    );
    reopened.close().await;
}

/// Migration 0005 rebuilds SQLite's operation log `WITHOUT ROWID`: a database an older Quire wrote (migrated to
/// 0004) keeps every op, the document opens at its head, and the rebuilt key still refuses a second op at a rev.
#[tokio::test]
async fn upgrading_sqlite_from_0004_keeps_the_op_log() {
    let dir = tempfile::tempdir().unwrap();
    let old = sqlx::sqlite::SqlitePoolOptions::new()
        .connect_with(
            sqlx::sqlite::SqliteConnectOptions::new()
                .filename(dir.path().join("quire.db"))
                .create_if_missing(true),
        )
        .await
        .unwrap();
    let migrations = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    let mut up_to_0004 = sqlx::migrate::Migrator::new(migrations).await.unwrap();
    up_to_0004.migrations = up_to_0004
        .migrations
        .iter()
        .filter(|migration| migration.version <= 4)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    up_to_0004.run(&old).await.unwrap();
    for sql in [
        "INSERT INTO users (id, email, name, password_hash, created_at) VALUES ('ann', 'ann@example.com', 'Ann', 'x', 1)",
        "INSERT INTO documents (id, title, owner_id, head_rev, created_at, updated_at) VALUES ('d1', 'Doc', 'ann', 3, 1, 2)",
        r#"INSERT INTO operations (doc_id, rev, client, seq, author_id, op, len_after, created_at) VALUES
            ('d1', 0, 'c1', 1, 'ann', '[{"insert":"a"}]', 2, 1),
            ('d1', 1, 'c1', 2, 'ann', '[{"retain":1},{"insert":"b"}]', 3, 1),
            ('d1', 2, 'c2', 1, NULL, '[{"retain":2},{"insert":"c"}]', 4, 2)"#,
    ] {
        sqlx::query(sql).execute(&old).await.unwrap();
    }
    old.close().await;

    let store = Store::open(&sqlite_url(dir.path()), 4, SyncMode::Normal)
        .await
        .expect("0005 upgrades the old database");
    let ops = store.ops_since("d1", 0).await.unwrap();
    let summary: Vec<_> = ops
        .iter()
        .map(|op| {
            (
                op.rev,
                op.client.as_str(),
                op.seq,
                op.author_id.as_deref(),
                op.op_json.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (0, "c1", 1, Some("ann"), r#"[{"insert":"a"}]"#),
            (1, "c1", 2, Some("ann"), r#"[{"retain":1},{"insert":"b"}]"#),
            (2, "c2", 1, None, r#"[{"retain":2},{"insert":"c"}]"#),
        ]
    );
    assert_eq!(store.document("d1").await.unwrap().unwrap().head_rev, 3);
    store.append_ops("d1", &[op(3, "c1", 3)]).await.unwrap();
    assert!(matches!(
        store.append_ops("d1", &[op(3, "c2", 2)]).await,
        Err(StoreError::Conflict(_))
    ));
    store.close().await;
}

async fn with_postgres<F: Future<Output = ()>>(body: impl FnOnce(Store) -> F) {
    let Some(pg) = TestPg::start().await else {
        return;
    };
    let store = Store::open(&DatabaseUrl::Postgres(pg.url.clone()), 4, SyncMode::Normal)
        .await
        .expect("open PostgreSQL");
    body(store.clone()).await;
    store.close().await;
}

async fn user(store: &Store, id: &str) -> User {
    store
        .create_user(
            id,
            &format!("{id}@Example.test"),
            &format!("User {id}"),
            "$argon2id$fake",
        )
        .await
        .unwrap()
}

pub(crate) fn op(rev: i64, client: &str, seq: i64) -> NewOp {
    NewOp {
        rev,
        client: client.to_string(),
        seq,
        author_id: Some("ann".to_string()),
        op_json: format!(r#"[{{"insert":"{rev}"}}]"#),
        len_after: rev + 2,
    }
}

async fn users(store: Store) {
    let ann = user(&store, "ann").await;
    assert_eq!(
        ann.email, "ann@example.test",
        "e-mails are stored lower-cased"
    );
    assert!(!ann.disabled);
    let found = store
        .user_by_email("ANN@example.TEST")
        .await
        .unwrap()
        .expect("case-insensitive lookup");
    assert_eq!(found, ann);
    assert_eq!(store.user_by_id("ann").await.unwrap(), Some(ann.clone()));
    assert_eq!(
        store.user_by_email("nobody@example.test").await.unwrap(),
        None
    );
    let taken = store
        .create_user("ann2", "Ann@EXAMPLE.test", "Another Ann", "x")
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    user(&store, "bob").await;
    let listed: Vec<String> = store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|user| user.id)
        .collect();
    assert_eq!(listed, ["ann", "bob"]);
    assert!(store.set_disabled("bob", true).await.unwrap());
    assert!(store.user_by_id("bob").await.unwrap().unwrap().disabled);
    assert!(!store.set_disabled("nobody", true).await.unwrap());
    assert!(store.set_password("ann", "$argon2id$new").await.unwrap());
    assert_eq!(
        store
            .user_by_id("ann")
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "$argon2id$new"
    );
}

async fn sessions(store: Store) {
    user(&store, "ann").await;
    let later = now_ms() + 60_000;
    store.create_session("live", "ann", later).await.unwrap();
    store
        .create_session("expired", "ann", now_ms() - 1)
        .await
        .unwrap();
    let (found, session) = store
        .session_user("live")
        .await
        .unwrap()
        .expect("live session");
    assert_eq!((found.id.as_str(), session.expires_at), ("ann", later));
    assert_eq!(session.last_use, None, "not used since created");
    assert_eq!(
        store.session_user("expired").await.unwrap(),
        None,
        "expiry is respected"
    );
    assert_eq!(store.session_user("unknown").await.unwrap(), None);
    let last_use = SessionUse {
        at: now_ms(),
        address: "192.0.2.7".into(),
        user_agent: "Firefox/133.0".into(),
    };
    store
        .touch_session("expired", &last_use, later + 1)
        .await
        .unwrap();
    let (_, renewed) = store.session_user("expired").await.unwrap().unwrap();
    assert_eq!(renewed.expires_at, later + 1, "renewed");
    assert_eq!(
        renewed.last_use.as_ref(),
        Some(&last_use),
        "its use recorded"
    );
    assert_eq!(
        store.sessions_of("ann").await.unwrap()[0].last_use.as_ref(),
        Some(&last_use),
        "the account page lists it"
    );
    store.delete_session("live").await.unwrap();
    assert_eq!(store.session_user("live").await.unwrap(), None);
    store.set_disabled("ann", true).await.unwrap();
    assert_eq!(
        store.session_user("expired").await.unwrap(),
        None,
        "disabling ends sessions"
    );
    store.set_disabled("ann", false).await.unwrap();
    store.create_session("again", "ann", later).await.unwrap();
    store.set_password("ann", "new").await.unwrap();
    assert_eq!(
        store.session_user("again").await.unwrap(),
        None,
        "a new password ends sessions"
    );
}

/// Deleting an account (issue 15): its documents all change owner or are all deleted, its sessions and memberships
/// go, and the other people's memberships stay.
async fn deleting_an_account_hands_over_or_deletes_its_documents(store: Store) {
    for id in ["ann", "bob", "cat", "dan"] {
        user(&store, id).await;
    }
    for doc in ["d1", "d2"] {
        store.create_document(doc, "Plans", "ann").await.unwrap();
    }
    store.trash_document("d2").await.unwrap();
    store.set_member("d1", "bob", Role::Viewer).await.unwrap();
    store.set_member("d1", "cat", Role::Editor).await.unwrap();
    store.create_document("d3", "Dan's", "dan").await.unwrap();
    store.set_member("d3", "ann", Role::Editor).await.unwrap();
    store.set_member("d3", "cat", Role::Viewer).await.unwrap();
    store
        .create_session("ann-1", "ann", now_ms() + 60_000)
        .await
        .unwrap();

    let owned = store
        .delete_account("ann", OwnedDocuments::TransferTo("bob"))
        .await
        .unwrap();
    assert_eq!(owned, Some(vec!["d1".to_string(), "d2".to_string()]));
    assert_eq!(store.user_by_id("ann").await.unwrap(), None);
    assert_eq!(store.session_user("ann-1").await.unwrap(), None);
    for doc in ["d1", "d2"] {
        let meta = store.document(doc).await.unwrap().expect("kept");
        assert_eq!(meta.owner_id, "bob", "{doc}");
        assert_eq!(store.role_of(doc, "bob").await.unwrap(), Some(Role::Owner));
    }
    let d1: Vec<(String, Role)> = store
        .members("d1")
        .await
        .unwrap()
        .into_iter()
        .map(|member| (member.user_id, member.role))
        .collect();
    assert_eq!(
        d1,
        [("cat".to_string(), Role::Editor)],
        "Bob is no more a viewer"
    );
    let d3: Vec<String> = store
        .members("d3")
        .await
        .unwrap()
        .into_iter()
        .map(|member| member.user_id)
        .collect();
    assert_eq!(d3, ["cat"], "Ann left what was shared with her");

    let owned = store
        .delete_account("dan", OwnedDocuments::Delete)
        .await
        .unwrap();
    assert_eq!(owned, Some(vec!["d3".to_string()]));
    assert_eq!(store.document("d3").await.unwrap(), None);
    assert_eq!(store.role_of("d3", "cat").await.unwrap(), None);
    assert_eq!(
        store
            .delete_account("dan", OwnedDocuments::Delete)
            .await
            .unwrap(),
        None,
        "no such account"
    );
    assert!(store.user_by_id("bob").await.unwrap().is_some());
}

/// What the account page asks of the store (issue 15): a person's sessions, ending the others, a password change
/// that keeps the session that made it, and a new name.
async fn the_account_pages_session_changes(store: Store) {
    user(&store, "ann").await;
    user(&store, "bob").await;
    let later = now_ms() + 60_000;
    for hash in ["ann-1", "ann-2", "ann-3"] {
        store.create_session(hash, "ann", later).await.unwrap();
    }
    store
        .create_session("ann-old", "ann", now_ms() - 1)
        .await
        .unwrap();
    store.create_session("bob-1", "bob", later).await.unwrap();
    let mut listed: Vec<String> = store
        .sessions_of("ann")
        .await
        .unwrap()
        .into_iter()
        .map(|session| session.token_hash)
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        ["ann-1", "ann-2", "ann-3"],
        "unexpired and hers only"
    );

    assert_eq!(
        store
            .end_other_sessions("ann", Some("ann-2"))
            .await
            .unwrap(),
        3
    );
    let kept: Vec<String> = store
        .sessions_of("ann")
        .await
        .unwrap()
        .into_iter()
        .map(|session| session.token_hash)
        .collect();
    assert_eq!(kept, ["ann-2"]);
    assert!(
        store.session_user("bob-1").await.unwrap().is_some(),
        "not Bob's"
    );

    store.create_session("ann-4", "ann", later).await.unwrap();
    let token = store
        .create_api_token("t1", "ann", "script", "token-hash")
        .await
        .unwrap();
    assert!(
        store
            .change_password("ann", "$new", Some("ann-4"))
            .await
            .unwrap()
    );
    assert!(store.session_user("ann-2").await.unwrap().is_none());
    assert!(store.session_user("ann-4").await.unwrap().is_some(), "kept");
    assert!(
        !store.api_token_valid("token-hash").await.unwrap(),
        "{token:?} revoked"
    );
    assert_eq!(
        store
            .user_by_id("ann")
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "$new"
    );

    assert_eq!(
        store.end_other_sessions("ann", None).await.unwrap(),
        1,
        "None keeps none"
    );
    assert!(store.sessions_of("ann").await.unwrap().is_empty());
    assert!(store.set_user_name("ann", "Ann B").await.unwrap());
    assert_eq!(
        store.user_by_id("ann").await.unwrap().unwrap().name,
        "Ann B"
    );
    assert!(!store.set_user_name("nobody", "X").await.unwrap());
}

async fn api_tokens(store: Store) {
    user(&store, "ann").await;
    user(&store, "bob").await;
    let token = store
        .create_api_token("t1", "ann", "laptop", "hash1")
        .await
        .unwrap();
    assert_eq!(
        (token.id.as_str(), token.name.as_str(), token.last_used_at),
        ("t1", "laptop", None)
    );
    assert_eq!(
        store
            .api_token_user("hash1")
            .await
            .unwrap()
            .map(|user| user.id),
        Some("ann".into())
    );
    let listed = store.list_api_tokens("ann").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].last_used_at.is_some(), "use is recorded");
    assert!(store.list_api_tokens("bob").await.unwrap().is_empty());
    assert!(
        !store.revoke_api_token("bob", "t1").await.unwrap(),
        "only the owner revokes"
    );
    assert!(store.revoke_api_token("ann", "t1").await.unwrap());
    assert!(
        !store.revoke_api_token("ann", "t1").await.unwrap(),
        "already revoked"
    );
    assert_eq!(store.api_token_user("hash1").await.unwrap(), None);
    assert!(store.list_api_tokens("ann").await.unwrap().is_empty());
    store
        .create_api_token("t2", "ann", "script", "hash2")
        .await
        .unwrap();
    store.set_disabled("ann", true).await.unwrap();
    assert_eq!(
        store.api_token_user("hash2").await.unwrap(),
        None,
        "a disabled user's tokens stop working"
    );
}

async fn invitations_are_used_with_the_account_they_make(store: Store) {
    user(&store, "ann").await;
    store
        .create_invite("inv-ann", "ann@example.test", None)
        .await
        .unwrap();
    let taken = store
        .create_invited_user("inv-ann", "ann2", "ann@example.test", "Ann again", "x")
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    assert!(
        store
            .invite_usable("inv-ann", "ann@example.test")
            .await
            .unwrap(),
        "a failed sign-up keeps its invitation"
    );
    store
        .create_invite("inv-cy", "Cy@Example.test", None)
        .await
        .unwrap();
    let elsewhere = store
        .create_invited_user("inv-cy", "cy", "other@example.test", "Cy", "x")
        .await
        .unwrap();
    assert_eq!(elsewhere, None, "an invitation is for its own e-mail");
    let cy = store
        .create_invited_user("inv-cy", "cy", "cy@example.test", "Cy", "x")
        .await
        .unwrap()
        .expect("invited user");
    assert_eq!((cy.id.as_str(), cy.guest), ("cy", false));
    assert!(
        !store
            .invite_usable("inv-cy", "cy@example.test")
            .await
            .unwrap()
    );
    let again = store
        .create_invited_user("inv-cy", "cy2", "cy@example.test", "Cy", "x")
        .await
        .unwrap();
    assert_eq!(again, None, "an invitation is used once");
}

async fn joining_through_a_link(store: Store) {
    ann_with_docs(&store, &["d1"]).await;
    for id in ["bob", "cy", "dee"] {
        user(&store, id).await;
    }
    store.set_member("d1", "bob", Role::Viewer).await.unwrap();
    store
        .create_link("l-view", "h-view", "d1", Role::Viewer, "ann")
        .await
        .unwrap();
    store
        .create_link("l-edit", "h-edit", "d1", Role::Editor, "ann")
        .await
        .unwrap();
    let join = |hash: &'static str, user: &'static str| {
        let store = store.clone();
        async move {
            store
                .join_through_link(hash, user)
                .await
                .unwrap()
                .map(|(link, changed)| (link.id, changed))
        }
    };
    assert_eq!(
        join("h-edit", "ann").await,
        Some(("l-edit".into(), false)),
        "the owner"
    );
    assert_eq!(
        join("h-edit", "bob").await,
        Some(("l-edit".into(), false)),
        "added by name"
    );
    assert_eq!(
        store.role_of("d1", "bob").await.unwrap(),
        Some(Role::Viewer)
    );
    assert!(
        store
            .link_would_grant("d1", "cy", Role::Viewer)
            .await
            .unwrap()
    );
    assert_eq!(join("h-view", "cy").await, Some(("l-view".into(), true)));
    assert!(
        !store
            .link_would_grant("d1", "cy", Role::Viewer)
            .await
            .unwrap()
    );
    assert_eq!(
        join("h-edit", "cy").await,
        Some(("l-edit".into(), true)),
        "an upgrade"
    );
    assert_eq!(
        join("h-view", "cy").await,
        Some(("l-view".into(), false)),
        "never a downgrade"
    );
    assert_eq!(store.role_of("d1", "cy").await.unwrap(), Some(Role::Editor));
    assert_eq!(join("h-none", "dee").await, None, "no such link");
    assert_eq!(
        store.revoke_link("d1", "l-view").await.unwrap(),
        Some(vec![])
    );
    assert_eq!(join("h-view", "dee").await, None, "a revoked link");
    assert_eq!(store.role_of("d1", "dee").await.unwrap(), None);
    assert!(store.trash_document("d1").await.unwrap());
    assert_eq!(join("h-edit", "dee").await, None, "a trashed document");
    assert_eq!(store.role_of("d1", "dee").await.unwrap(), None);
}

async fn documents_and_roles(store: Store) {
    user(&store, "ann").await;
    user(&store, "bob").await;
    user(&store, "cat").await;
    let doc = store.create_document("d1", "Plans", "ann").await.unwrap();
    assert_eq!(
        (doc.head_rev, doc.owner_name.as_str(), doc.trashed_at),
        (0, "User ann", None)
    );
    assert_eq!(store.document("d1").await.unwrap(), Some(doc.clone()));
    assert_eq!(store.document("nope").await.unwrap(), None);
    assert_eq!(store.role_of("d1", "ann").await.unwrap(), Some(Role::Owner));
    assert_eq!(store.role_of("d1", "bob").await.unwrap(), None);
    assert_eq!(store.role_of("nope", "ann").await.unwrap(), None);
    store.set_member("d1", "bob", Role::Editor).await.unwrap();
    store.set_member("d1", "cat", Role::Viewer).await.unwrap();
    assert_eq!(
        store.role_of("d1", "bob").await.unwrap(),
        Some(Role::Editor)
    );
    store
        .set_member("d1", "bob", Role::Commenter)
        .await
        .unwrap();
    assert_eq!(
        store.role_of("d1", "bob").await.unwrap(),
        Some(Role::Commenter),
        "set_member replaces the role"
    );
    let for_bob = store
        .documents_for("bob", DocScope::All, "", 50, 0)
        .await
        .unwrap();
    assert_eq!(for_bob.len(), 1);
    assert_eq!(
        (for_bob[0].0.id.as_str(), for_bob[0].1),
        ("d1", Role::Commenter)
    );
    assert_eq!(
        store
            .documents_for("ann", DocScope::All, "", 50, 0)
            .await
            .unwrap()[0]
            .1,
        Role::Owner
    );
    assert!(store.rename_document("d1", "Better plans").await.unwrap());
    assert!(store.trash_document("d1").await.unwrap());
    assert!(
        store
            .documents_for("cat", DocScope::All, "", 50, 0)
            .await
            .unwrap()
            .is_empty(),
        "trashed documents leave the list"
    );
    let trash = store
        .documents_for("ann", DocScope::Trash, "", 50, 0)
        .await
        .unwrap();
    assert_eq!(trash.len(), 1, "the owner finds it in the trash");
    assert!(
        store
            .documents_for("ann", DocScope::Trash, "no such title", 50, 0)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.restore_document("d1").await.unwrap());
    assert_eq!(
        store
            .documents_for("ann", DocScope::Owned, "BETTER", 50, 0)
            .await
            .unwrap()
            .len(),
        1,
        "filter ignores case"
    );
    assert_eq!(
        store
            .documents_for("bob", DocScope::SharedWithMe, "", 50, 0)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store.trash_document("d1").await.unwrap());
    assert_eq!(store.current_snapshot("d1").await.unwrap(), None);
}

async fn append_ops_moves_head(store: Store) {
    user(&store, "ann").await;
    store.create_document("d1", "Doc", "ann").await.unwrap();
    store.create_document("d2", "Other", "ann").await.unwrap();
    store.append_ops("d1", &[]).await.unwrap();
    store
        .append_ops("d1", &[op(0, "c1", 1), op(1, "c1", 2)])
        .await
        .unwrap();
    store.append_ops("d1", &[op(2, "c2", 1)]).await.unwrap();
    store.append_ops("d2", &[op(0, "c1", 3)]).await.unwrap();
    let doc = store.document("d1").await.unwrap().unwrap();
    assert_eq!(doc.head_rev, 3);
    assert_eq!(doc.last_editor_id.as_deref(), Some("ann"));
    let all = store.ops_since("d1", 0).await.unwrap();
    let revs: Vec<i64> = all.iter().map(|logged| logged.rev).collect();
    assert_eq!(revs, [0, 1, 2], "in revision order, only this document");
    assert_eq!(all[1].op_json, r#"[{"insert":"1"}]"#);
    assert_eq!(
        (
            all[2].client.as_str(),
            all[2].seq,
            all[2].author_id.as_deref()
        ),
        ("c2", 1, Some("ann"))
    );
    let tail: Vec<i64> = store
        .ops_since("d1", 2)
        .await
        .unwrap()
        .iter()
        .map(|logged| logged.rev)
        .collect();
    assert_eq!(tail, [2]);
    assert!(store.ops_since("d1", 3).await.unwrap().is_empty());
}

async fn duplicate_rev_conflicts_and_writes_nothing(store: Store) {
    user(&store, "ann").await;
    store.create_document("d1", "Doc", "ann").await.unwrap();
    store
        .append_ops("d1", &[op(0, "c1", 1), op(1, "c1", 2)])
        .await
        .unwrap();
    let before = store.ops_since("d1", 0).await.unwrap();

    let mut rival = op(1, "rival", 1);
    rival.op_json = r#"[{"insert":"rival"}]"#.into();
    let duplicate = store.append_ops("d1", &[rival]).await;
    assert!(
        matches!(duplicate, Err(StoreError::Conflict(_))),
        "{duplicate:?}"
    );
    // A batch whose first op is new but which does not start at head must roll back entirely.
    let detached = store
        .append_ops("d1", &[op(5, "c1", 3), op(6, "c1", 4)])
        .await;
    assert!(
        matches!(detached, Err(StoreError::Conflict(_))),
        "{detached:?}"
    );
    // A batch that starts right but repeats a revision inside writes nothing either.
    let repeated = store
        .append_ops("d1", &[op(2, "c1", 3), op(2, "c1", 4)])
        .await;
    assert!(
        matches!(repeated, Err(StoreError::Conflict(_))),
        "{repeated:?}"
    );

    assert_eq!(store.ops_since("d1", 0).await.unwrap(), before);
    assert_eq!(store.document("d1").await.unwrap().unwrap().head_rev, 2);
    store
        .append_ops("d1", &[op(2, "c1", 3)])
        .await
        .expect("the log still accepts the next revision");
}

async fn last_seqs_per_client(store: Store) {
    user(&store, "ann").await;
    store.create_document("d1", "Doc", "ann").await.unwrap();
    store.create_document("d2", "Other", "ann").await.unwrap();
    assert!(store.last_seqs("d1", 0).await.unwrap().is_empty());
    let batch = [
        op(0, "c1", 1),
        op(1, "c2", 7),
        op(2, "c1", 2),
        op(3, "c1", 5),
        op(4, "c2", 8),
    ];
    store.append_ops("d1", &batch).await.unwrap();
    store.append_ops("d2", &[op(0, "c1", 99)]).await.unwrap();
    let mut seqs = store.last_seqs("d1", 0).await.unwrap();
    seqs.sort();
    let ann = Some("ann".to_string());
    assert_eq!(
        seqs,
        [
            ("c1".to_string(), ann.clone(), 5, 3),
            ("c2".to_string(), ann.clone(), 8, 4)
        ],
        "(client, author, max seq, its rev)"
    );
    let recent = store.last_seqs("d1", 4).await.unwrap();
    assert_eq!(
        recent,
        [("c2".to_string(), ann, 8, 4)],
        "only clients that wrote from rev 4 on"
    );
}

async fn reopening_runs_no_migration_twice(store: Store) {
    user(&store, "ann").await;
    store
        .migrate()
        .await
        .expect("migrating an up-to-date database is a no-op");
    assert!(store.user_by_id("ann").await.unwrap().is_some());
}

fn version(id: &str, rev: i64, kind: &'static str) -> NewVersion {
    NewVersion {
        id: id.to_string(),
        doc_id: "d1".to_string(),
        rev,
        content_json: r#"[{"insert":"\n"}]"#.to_string(),
        kind,
        name: (kind == "named").then(|| format!("name {id}")),
        created_by: None,
        contributors: vec!["ann".to_string()],
        size: 1,
    }
}

async fn versions_prune_and_thin(store: Store) {
    user(&store, "ann").await;
    store.create_document("d1", "Doc", "ann").await.unwrap();
    let batch: Vec<NewOp> = (0..6).map(|rev| op(rev, "c1", rev + 1)).collect();
    store.append_ops("d1", &batch).await.unwrap();
    for (id, rev, kind) in [
        ("a", 1, "compaction"),
        ("n", 2, "named"),
        ("b", 3, "compaction"),
        ("c", 4, "compaction"),
        ("d", 5, "compaction"),
    ] {
        store.write_version(&version(id, rev, kind)).await.unwrap();
    }
    let current = store
        .current_snapshot("d1")
        .await
        .unwrap()
        .expect("current version");
    assert_eq!(current.rev, 5, "the last version written is current");
    assert_eq!(
        store.thin_versions("d1", 2).await.unwrap(),
        2,
        "a and b go: older than the newest two, not the last of the day"
    );
    let ids: Vec<String> = store
        .versions("d1")
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.id)
        .collect();
    assert_eq!(
        ids,
        ["d", "c", "n"],
        "newest first; the named version stays"
    );
    assert_eq!(
        store.prune_ops("d1", 4, now_ms() + 1).await.unwrap(),
        4,
        "ops below rev 4"
    );
    assert_eq!(store.count_ops("d1").await.unwrap(), 2);
    assert_eq!(store.ops_since("d1", 0).await.unwrap()[0].rev, 4);
}

/// A background compaction at rev 3 that finishes after a named version at rev 5 must leave rev 5 current: loading
/// from rev 3 would need ops the named version's pruning may have deleted (issue 17, defect 4).
async fn a_late_version_does_not_move_current_backwards(store: Store) {
    ann_with_docs(&store, &["d1"]).await;
    let batch: Vec<NewOp> = (0..6).map(|rev| op(rev, "c1", rev + 1)).collect();
    store.append_ops("d1", &batch).await.unwrap();
    store
        .write_version(&version("n", 5, "named"))
        .await
        .unwrap();
    store
        .write_version(&version("late", 3, "compaction"))
        .await
        .unwrap();
    let current = store.current_snapshot("d1").await.unwrap().unwrap();
    assert_eq!(current.rev, 5, "the newer version stays current");
    assert_eq!(
        store.versions("d1").await.unwrap().len(),
        2,
        "the late version is still in the history"
    );
    store
        .write_version(&version("next", 6, "compaction"))
        .await
        .unwrap();
    assert_eq!(store.current_snapshot("d1").await.unwrap().unwrap().rev, 6);
}

async fn group_commit_writes_every_document(store: Store) {
    ann_with_docs(&store, &["d1", "d2", "d3"]).await;
    store.append_ops("d3", &[op(0, "c1", 1)]).await.unwrap();
    let (one, two, three) = (
        [op(0, "c1", 1), op(1, "c1", 2), op(2, "c2", 1)],
        [op(0, "c1", 1)],
        [op(1, "c1", 2), op(2, "c1", 3)],
    );
    let results = store
        .append_many(&[("d1", &one[..]), ("d2", &two[..]), ("d3", &three[..])])
        .await;
    assert!(!results.split, "one transaction for the whole group");
    assert!(results.results.iter().all(Result::is_ok), "{results:?}");
    for (doc, head) in [("d1", 3), ("d2", 1), ("d3", 3)] {
        let meta = store.document(doc).await.unwrap().unwrap();
        assert_eq!(meta.head_rev, head, "{doc}");
        let revs: Vec<i64> = store
            .ops_since(doc, 0)
            .await
            .unwrap()
            .iter()
            .map(|o| o.rev)
            .collect();
        assert_eq!(revs, (0..head).collect::<Vec<_>>(), "{doc}");
    }
    let d1 = store.ops_since("d1", 0).await.unwrap();
    assert_eq!(d1[2].client, "c2");
    assert_eq!(d1[2].op_json, r#"[{"insert":"2"}]"#);
}

/// 900 rows: more than one multi-row statement holds, so the rows go in several.
async fn group_commit_larger_than_one_statement(store: Store) {
    let docs = ["d1", "d2", "d3"];
    ann_with_docs(&store, &docs).await;
    let batch: Vec<NewOp> = (0..300).map(|rev| op(rev, "c1", rev + 1)).collect();
    let write = store.append_many(&docs.map(|doc| (doc, &batch[..]))).await;
    assert!(!write.split);
    assert!(write.results.iter().all(Result::is_ok), "{write:?}");
    for doc in docs {
        assert_eq!(store.document(doc).await.unwrap().unwrap().head_rev, 300);
        assert_eq!(store.count_ops(doc).await.unwrap(), 300);
    }
}

/// The hubs' writer (a thread of its own on SQLite, a task on PostgreSQL): rounds of several documents queued
/// together commit together, and a stale round fails alone.
async fn group_committer_isolates_a_conflicting_document(store: Store) {
    ann_with_docs(&store, &["d1", "d2", "d3"]).await;
    store.append_ops("d2", &[op(0, "c1", 1)]).await.unwrap();
    let stats = quire::store::GroupStats::default();
    let committer = GroupCommitter::start(store.clone(), stats.clone());
    let (one, stale, three) = tokio::join!(
        committer.append("d1", vec![op(0, "c1", 1), op(1, "c1", 2)]),
        committer.append("d2", vec![op(0, "c9", 1)]),
        committer.append("d3", vec![op(0, "c1", 1)]),
    );
    assert!(one.is_ok() && three.is_ok(), "{one:?} {three:?}");
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    assert_eq!(store.document("d1").await.unwrap().unwrap().head_rev, 2);
    assert_eq!(store.document("d3").await.unwrap().unwrap().head_rev, 1);
    let d2 = store.ops_since("d2", 0).await.unwrap();
    assert_eq!((d2.len(), d2[0].client.as_str()), (1, "c1"));
    // The writer goes on after a conflict.
    committer
        .append("d2", vec![op(1, "c9", 1)])
        .await
        .expect("the next round is written");
    assert_eq!(store.document("d2").await.unwrap().unwrap().head_rev, 2);
    // /metrics counts what was written: the refused round's op is not among them.
    assert_eq!(stats.ops.get(), 4);
    assert!((2..=4).contains(&stats.groups.get()), "{stats:?}");
}

/// Ops whose rows are new but whose base is not the head (the document moved on without them): the head check
/// refuses that document alone.
async fn group_commit_refuses_a_moved_head(store: Store) {
    ann_with_docs(&store, &["d1", "d2"]).await;
    store.append_ops("d2", &[op(0, "c1", 1)]).await.unwrap();
    let (fine, gap) = ([op(0, "c1", 1)], [op(5, "c1", 2)]);
    let write = store
        .append_many(&[("d1", &fine[..]), ("d2", &gap[..])])
        .await;
    assert!(write.split);
    let results = write.results;
    assert!(results[0].is_ok(), "{results:?}");
    assert!(
        matches!(results[1], Err(StoreError::Conflict(_))),
        "{results:?}"
    );
    assert_eq!(store.document("d1").await.unwrap().unwrap().head_rev, 1);
    assert_eq!(store.document("d2").await.unwrap().unwrap().head_rev, 1);
    assert_eq!(
        store.count_ops("d2").await.unwrap(),
        1,
        "the gap op is not kept"
    );
}

async fn group_commit_isolates_a_conflicting_document(store: Store) {
    ann_with_docs(&store, &["d1", "d2", "d3"]).await;
    store.append_ops("d2", &[op(0, "c1", 1)]).await.unwrap();
    let (one, stale, three) = (
        [op(0, "c1", 1), op(1, "c1", 2)],
        [op(0, "c9", 1)],
        [op(0, "c1", 1)],
    );
    let results = store
        .append_many(&[("d1", &one[..]), ("d2", &stale[..]), ("d3", &three[..])])
        .await
        .results;
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    assert!(
        matches!(results[1], Err(StoreError::Conflict(_))),
        "{results:?}"
    );
    assert_eq!(store.count_ops("d1").await.unwrap(), 2);
    assert_eq!(store.count_ops("d3").await.unwrap(), 1);
    let d2 = store.ops_since("d2", 0).await.unwrap();
    assert_eq!(
        (d2.len(), d2[0].client.as_str()),
        (1, "c1"),
        "the conflicting batch wrote nothing"
    );
    assert_eq!(store.document("d1").await.unwrap().unwrap().head_rev, 2);
    assert_eq!(store.document("d2").await.unwrap().unwrap().head_rev, 1);
}

/// Issue 12: the cluster's fence. A claim from an older membership version is refused; a commit under a claim
/// that another node has since superseded is refused as `Fenced` (not a revision conflict: the new owner has not
/// written yet), writes nothing, and leaves the group's other documents alone. On PostgreSQL, the cluster's
/// database.
#[tokio::test]
#[cfg_attr(
    quire_no_postgres,
    ignore = "PostgreSQL is not installed; ./scripts/test installs it"
)]
async fn a_superseded_claim_commits_nothing() {
    use quire::store::Fence;
    let fence = |node: &str, view: i64| Fence {
        node: node.to_string(),
        view,
        epoch: view * 10,
    };
    with_postgres(|store: Store| async move {
        ann_with_docs(&store, &["d1", "d2"]).await;
        let committer = GroupCommitter::start(store.clone(), Default::default());
        assert!(store.claim_document("d1", &fence("a", 5)).await.unwrap());
        assert!(store.claim_document("d2", &fence("a", 5)).await.unwrap());
        committer
            .append_fenced("d1", vec![op(0, "c1", 1)], Some(fence("a", 5)))
            .await
            .expect("the owner commits");
        // b takes over d1 from a newer membership; a (paused, say) still believes it owns it.
        assert!(store.claim_document("d1", &fence("b", 6)).await.unwrap());
        assert!(
            !store.claim_document("d1", &fence("a", 5)).await.unwrap(),
            "a claim from an older membership version is refused"
        );
        assert!(
            !store.claim_document("d1", &fence("c", 6)).await.unwrap(),
            "two nodes cannot own one document in the same membership version"
        );
        let (stale, other) = tokio::join!(
            committer.append_fenced("d1", vec![op(1, "c1", 2)], Some(fence("a", 5))),
            committer.append_fenced("d2", vec![op(0, "c1", 1)], Some(fence("a", 5))),
        );
        assert!(matches!(stale, Err(StoreError::Fenced(_))), "{stale:?}");
        assert!(other.is_ok(), "a's other document is still a's: {other:?}");
        assert_eq!(store.document("d1").await.unwrap().unwrap().head_rev, 1);
        assert_eq!(store.ops_since("d1", 0).await.unwrap().len(), 1);
        // The new owner goes on from the head the old one left.
        committer
            .append_fenced("d1", vec![op(1, "c2", 1)], Some(fence("b", 6)))
            .await
            .expect("the new owner commits");
        let owner = store.document_owner("d1").await.unwrap().unwrap();
        assert_eq!((owner.node.as_str(), owner.view, owner.epoch), ("b", 6, 60));
        // Back to a from a newer membership still (b left): allowed.
        assert!(store.claim_document("d1", &fence("a", 7)).await.unwrap());
        // A single node never claims, and its unfenced commits are not checked.
        committer
            .append("d1", vec![op(2, "c3", 1)])
            .await
            .expect("unfenced commit");
    })
    .await;
}

/// An install made by the previous release (every migration but the last) upgrades in place on PostgreSQL: the
/// versions move into the partitioned table (migration 0008), the current one stays current, and the store goes
/// on writing and reading them.
#[tokio::test]
#[cfg_attr(
    quire_no_postgres,
    ignore = "PostgreSQL is not installed; ./scripts/test installs it"
)]
async fn an_install_on_the_previous_migration_upgrades_with_its_versions() {
    let Some(pg) = TestPg::start().await else {
        return;
    };
    let pool = sqlx::PgPool::connect(&pg.url).await.unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut previous = sqlx::migrate::Migrator::new(dir).await.unwrap();
    let last = previous.migrations.iter().map(|m| m.version).max().unwrap();
    previous.migrations = previous
        .migrations
        .iter()
        .filter(|m| m.version < last)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    previous.run(&pool).await.unwrap();
    for sql in [
        "INSERT INTO users (id, email, name, password_hash, created_at) VALUES ('ann', 'ann@example.test', 'Ann', 'x', 1)",
        "INSERT INTO documents (id, title, owner_id, head_rev, created_at, updated_at) VALUES ('d1', 'Old', 'ann', 2, 1, 1)",
        "INSERT INTO document_versions (id, doc_id, rev, content, kind, created_at) \
         VALUES ('v1', 'd1', 1, '[{\"insert\":\"a\\n\"}]', 'compaction', 10), \
                ('v2', 'd1', 2, '[{\"insert\":\"ab\\n\"}]', 'named', 20)",
        "UPDATE documents SET current_version_id = 'v2' WHERE id = 'd1'",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    let store = Store::open(&DatabaseUrl::Postgres(pg.url.clone()), 2, SyncMode::Normal)
        .await
        .expect("the upgrade runs");
    let partitions: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_inherits WHERE inhparent = 'document_versions'::regclass",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(partitions, 8, "versions are partitioned by document");
    let versions = store.versions("d1").await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.id.as_str()).collect::<Vec<_>>(),
        ["v2", "v1"]
    );
    let snapshot = store.current_snapshot("d1").await.unwrap().unwrap();
    assert_eq!(
        (snapshot.rev, snapshot.content_json.as_str()),
        (2, "[{\"insert\":\"ab\\n\"}]")
    );
    let (_, content) = store.version("d1", "v1").await.unwrap().unwrap();
    assert_eq!(content, "[{\"insert\":\"a\\n\"}]");
    store
        .write_version(&NewVersion {
            id: "v3".into(),
            doc_id: "d1".into(),
            rev: 2,
            content_json: "[{\"insert\":\"ab\\n\"}]".into(),
            kind: "compaction",
            name: None,
            created_by: None,
            contributors: vec![],
            size: 3,
        })
        .await
        .unwrap();
    assert_eq!(store.versions("d1").await.unwrap().len(), 3);
    assert!(store.delete_document("d1").await.unwrap());
    pool.close().await;
    store.close().await;
}

fn anchor(start: i64, end: i64, rev: i64) -> StoredAnchor {
    StoredAnchor {
        start,
        end,
        rev,
        orphaned: false,
    }
}

/// Comments (issue 14): a thread with its first message, replies in order, edit, delete (the last live message
/// takes the thread), resolve, anchors that never move back to an older revision, a log kept from the lowest
/// stored anchor, and a deleted document taking its comments.
async fn comment_threads_messages_and_anchors(store: Store) {
    ann_with_docs(&store, &["d1"]).await;
    let batch: Vec<NewOp> = (0..6).map(|rev| op(rev, "c1", rev + 1)).collect();
    store.append_ops("d1", &batch).await.unwrap();
    for (id, message) in [("t1", "m1"), ("t2", "m3")] {
        let thread = NewThread {
            id,
            doc_id: "d1",
            author_id: "ann",
            anchor: anchor(0, 2, 2),
            quote: "ab",
            message_id: message,
            body: "first",
            mentions: &[],
            now: 10,
        };
        store.insert_comment_thread(thread).await.unwrap();
    }
    let reply = |id, thread_id, body, now| NewMessage {
        id,
        thread_id,
        doc_id: "d1",
        author_id: "ann",
        body,
        mentions: &[],
        now,
    };
    store
        .insert_comment_message(reply("m2", "t1", "second", 11))
        .await
        .unwrap();
    assert!(
        store
            .edit_comment_message(reply("m1", "t1", "first!", 12))
            .await
            .unwrap()
            .is_some()
    );
    let messages = store.comment_messages("d1").await.unwrap();
    let t1: Vec<(&str, &str)> = messages
        .iter()
        .filter(|m| m.thread_id == "t1")
        .map(|m| (m.id.as_str(), m.body.as_str()))
        .collect();
    assert_eq!(t1, [("m1", "first!"), ("m2", "second")]);
    assert_eq!(messages[0].edited_at, Some(12));
    assert!(
        !store.delete_comment_message("m1", "t1").await.unwrap(),
        "m2 is left"
    );
    assert!(store.comment_message("m1").await.unwrap().unwrap().deleted);
    assert!(
        store
            .set_comment_resolved("t1", Some(("ann", 20)))
            .await
            .unwrap()
    );
    let thread = store.comment_thread("t1").await.unwrap().unwrap();
    assert_eq!(
        (thread.resolved_at, thread.resolved_by_name.as_deref()),
        (Some(20), Some("User ann"))
    );
    assert_eq!(thread.author_name.as_deref(), Some("User ann"));

    // The log stays from the lowest stored anchor (rev 2), whatever the caller asks.
    assert_eq!(store.prune_ops("d1", 5, now_ms() + 1).await.unwrap(), 2);
    store
        .save_comment_anchors(&[
            ("t1".into(), anchor(1, 3, 5)),
            ("t2".into(), anchor(0, 1, 4)),
        ])
        .await
        .unwrap();
    store
        .save_comment_anchors(&[("t1".into(), anchor(7, 8, 3))])
        .await
        .unwrap();
    assert_eq!(
        store.comment_thread("t1").await.unwrap().unwrap().anchor,
        anchor(1, 3, 5),
        "a late writer does not move an anchor back"
    );
    assert_eq!(
        store.prune_ops("d1", 6, now_ms() + 1).await.unwrap(),
        2,
        "ops below rev 4 go"
    );
    assert!(
        store.delete_comment_message("m3", "t2").await.unwrap(),
        "its last message takes t2"
    );
    assert_eq!(store.comment_threads("d1").await.unwrap().len(), 1);
    assert_eq!(store.count_comment_threads("d1").await.unwrap(), 1);
    assert!(store.delete_document("d1").await.unwrap());
    assert!(store.comment_threads("d1").await.unwrap().is_empty());
    assert!(store.comment_message("m2").await.unwrap().is_none());
}
