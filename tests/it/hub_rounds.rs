//! The hub driven through `Hubs` with no socket in between, where a test must decide what lands in one round:
//! messages queued behind an op whose commit fails must see only the committed head (issue 17, defect 4).

use std::time::Duration;

use quire::{
    config::{self, Sources},
    hub::{HubConfig, HubMetrics, HubMsg, Hubs, Join, JoinResult, OutboundRx, outbound},
    ot::Delta,
    protocol::UserInfo,
    store::{NewOp, Role, Store},
};
use tokio::sync::oneshot;

use crate::store::{ann_with_docs, sqlite_store};

struct Round {
    _dir: tempfile::TempDir,
    store: Store,
    hubs: Hubs,
    /// The joined session's queue, kept open so the hub keeps the session.
    _out: OutboundRx,
}

/// A hub for document `d1` with one owner session joined (conn 1), and another writer's op already in the log at
/// rev 0: the next commit of the hub, based on head 0, conflicts and fails.
async fn hub_whose_next_commit_fails() -> Round {
    let (dir, store) = sqlite_store().await;
    ann_with_docs(&store, &["d1"]).await;
    let config = config::load(&Sources::default()).expect("defaults");
    let hub_config = HubConfig {
        limits: config.limits.clone(),
        idle_grace: Duration::from_secs(30),
        max_batch: 64,
        coalesce_per_person: Duration::ZERO,
        wrong_priority: false,
        ack_before_commit: false,
        history: config.history.clone(),
    };
    let metrics = HubMetrics::register(&mut prometheus_client::registry::Registry::default());
    let hubs = Hubs::new(store.clone(), hub_config, metrics, None);
    let (out, queue) = outbound(64);
    let joined = hubs
        .join("d1", |reply| Join {
            conn: 1,
            client: "client-aaaaaaaaaaaaaaaa".into(),
            rev: None,
            user: ann(),
            role: Role::Owner,
            comments: false,
            out: out.clone(),
            reply,
        })
        .await;
    assert!(matches!(joined, JoinResult::Joined(_)), "{joined:?}");
    let theirs = NewOp {
        rev: 0,
        client: "other-writer-aaaaaaaa".into(),
        seq: 1,
        author_id: Some("ann".into()),
        op_json: r#"[{"insert":"theirs"}]"#.into(),
        len_after: 7,
    };
    store.append_ops("d1", &[theirs]).await.unwrap();
    Round {
        _dir: dir,
        store,
        hubs,
        _out: queue,
    }
}

fn ann() -> UserInfo {
    UserInfo {
        id: "ann".into(),
        name: "Ann".into(),
        color: "#123456".into(),
    }
}

fn mine() -> HubMsg {
    HubMsg::Submit {
        conn: 1,
        rev: 0,
        seq: 1,
        op: Delta::new().insert("mine", None),
    }
}

/// Queues `msgs` without yielding, so the hub reads them in one round.
async fn queue_in_one_round(hubs: &Hubs, msgs: Vec<HubMsg>) {
    let mailbox = hubs.running("d1").expect("the hub runs");
    for msg in msgs {
        mailbox.try_send(msg).expect("room in the mailbox");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_version_named_after_a_failed_commit_is_refused() {
    let round = hub_whose_next_commit_fails().await;
    let (reply, answer) = oneshot::channel();
    let name = HubMsg::NameVersion {
        name: "v1".into(),
        user_id: "ann".into(),
        reply,
    };
    queue_in_one_round(&round.hubs, vec![mine(), name]).await;
    let answer = answer.await.expect("an answer");
    assert!(answer.is_err(), "a version at an unsaved head: {answer:?}");
    assert!(
        round.store.current_snapshot("d1").await.unwrap().is_none(),
        "no version was written"
    );
    // The document still loads, at the committed head, and takes edits again.
    let (rev, content) = round.hubs.content("d1").await.unwrap();
    assert_eq!(
        (rev, content.to_json().to_string()),
        (1, r#"[{"insert":"theirs\n"}]"#.into())
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_snapshot_after_a_failed_commit_is_the_committed_one() {
    let round = hub_whose_next_commit_fails().await;
    let (reply, answer) = oneshot::channel();
    queue_in_one_round(&round.hubs, vec![mine(), HubMsg::Snapshot { reply }]).await;
    if let Ok((rev, content)) = answer.await {
        panic!("served an unsaved state: rev {rev}, {content:?}");
    }
    let (rev, content) = round.hubs.content("d1").await.unwrap();
    assert_eq!(
        (rev, content.to_json().to_string()),
        (1, r#"[{"insert":"theirs\n"}]"#.into()),
        "what the log holds"
    );
}
