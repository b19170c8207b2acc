//! Random message sequences from connections that may not edit (a viewer, a commenter, a link visitor), while the
//! owner edits: the document changes only by the owner's ops, and the owner's session never notices the others
//! beyond their presence (issue 17, "Tests"). The seed is printed; `QUIRE_FUZZ_SEED` replays one and
//! `QUIRE_FUZZ_MESSAGES` sets the length (default 300 messages).

use std::time::Duration;

use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};

use crate::{
    hub_client::{TestSocket, client_id},
    sharing_matrix::Cast,
    support::TestUser,
};

/// What an unprivileged client may try: ops of every shape at every revision, selections anywhere, protocol
/// errors, and the owner's own client id.
fn random_message(rng: &mut StdRng, head: u64, owner_client: &str) -> String {
    let rev = match rng.random_range(0..6) {
        0 => 0,
        1 => head,
        2 => head + rng.random_range(1..1000),
        3 => u64::MAX,
        4 => head.saturating_sub(rng.random_range(0..5)),
        _ => rng.random_range(0..1 << 53),
    };
    let op = match rng.random_range(0..6) {
        0 => json!([{"insert": "viewer text"}]),
        1 => json!([{"retain": rng.random_range(0..50)}, {"delete": rng.random_range(1..50)}]),
        2 => json!([{"retain": 1, "attributes": {"bold": true}}]),
        3 => json!([{"insert": {"image": "https://example.com/x.png"}}]),
        4 => json!([{"delete": u64::MAX}]),
        _ => json!("not a delta"),
    };
    let message = match rng.random_range(0..12) {
        0..=3 => json!({"t": "op", "rev": rev, "seq": rng.random_range(0..5), "op": op}),
        4..=6 => {
            let sel = json!({"index": rng.random_range(0..100_000u64), "length": rng.random_range(0..100_000u64)});
            json!({"t": "presence", "rev": rev, "sel": if rng.random_bool(0.2) { Value::Null } else { sel }})
        }
        7 => json!({"t": "ping", "id": rng.random_range(0..1000)}),
        8 => json!({"t": "hello", "proto": 1, "client": owner_client, "rev": rev}),
        9 => json!({"t": "op", "rev": rev, "seq": 1, "op": op, "extra": true}),
        10 => return "{\"t\":\"op\",".repeat(rng.random_range(1..40)),
        _ => json!({"t": "no such message"}),
    };
    message.to_string()
}

/// Opens `user`'s socket with a random client id, or the owner's (which must be refused).
async fn open(c: &Cast, user: &TestUser, doc: &str, client: &str) -> Option<TestSocket> {
    let mut socket = TestSocket::connect(&c.addr(), doc, c.token(user)).await;
    socket
        .send(json!({"t": "hello", "proto": 1, "client": client, "rev": null}))
        .await;
    let welcome = socket.recv_within(Duration::from_secs(5)).await?;
    (welcome["t"] == "welcome").then_some(socket)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unprivileged_connections_change_nothing_and_disturb_nobody() {
    let seed = std::env::var("QUIRE_FUZZ_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    let n_messages: usize = std::env::var("QUIRE_FUZZ_MESSAGES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    println!("unprivileged fuzz: QUIRE_FUZZ_SEED={seed} QUIRE_FUZZ_MESSAGES={n_messages}");
    let mut rng = StdRng::seed_from_u64(seed);
    let c = Cast::new().await;
    let fx = c.fixture("fuzz").await;
    let owner_client = client_id("owner");
    let mut owner = open(&c, &c.owner, &fx.doc, &owner_client)
        .await
        .expect("owner joins");
    let (mut head, mut seq, mut written) = (0u64, 0u64, String::new());
    let actors = [&c.viewer, &c.commenter, &c.visitor];
    let mut sockets: Vec<Option<TestSocket>> = Vec::new();
    for actor in actors {
        sockets.push(open(&c, actor, &fx.doc, &client_id("fuzz")).await);
    }
    for n in 0..n_messages {
        let who = rng.random_range(0..actors.len());
        if sockets[who].is_none() {
            // Closed by a fatal error: come back, sometimes under the owner's client id.
            let client = if rng.random_bool(0.3) {
                owner_client.clone()
            } else {
                client_id("fuzz")
            };
            sockets[who] = open(&c, actors[who], &fx.doc, &client).await;
            assert!(
                !(client == owner_client && sockets[who].is_some()),
                "seed {seed}: {} joined with the owner's client id",
                actors[who].name
            );
            continue;
        }
        let message = random_message(&mut rng, head, &owner_client);
        let socket = sockets[who].as_mut().expect("open");
        socket.send_text(&message).await;
        // Read whatever the server answers right away; a closed socket is reopened later.
        while let Some(frame) = socket.recv_within(Duration::from_millis(5)).await {
            assert_ne!(
                frame["t"], "ack",
                "seed {seed}: an unprivileged op was acknowledged: {message}"
            );
        }
        if socket.closed_within(Duration::from_millis(1)).await {
            sockets[who] = None;
        }
        // Now and then the owner types, and everything it hears must be about others, never an error of its own.
        if n % 10 == 0 {
            seq += 1;
            owner
                .send(json!({"t": "op", "rev": head, "seq": seq, "op": [{"insert": "o"}]}))
                .await;
            loop {
                let frame = owner.recv().await;
                match frame["t"].as_str() {
                    Some("ack") => {
                        assert_eq!(frame["seq"], seq, "seed {seed}");
                        break;
                    }
                    Some("presence") | Some("op") => continue,
                    _ => panic!("seed {seed}: the owner's session was disturbed: {frame}"),
                }
            }
            head += 1;
            written.push('o');
        }
    }
    let content = crate::hub_convergence::content(&c.server.base, &fx.doc, c.token(&c.owner)).await;
    assert_eq!(
        content["rev"], head,
        "seed {seed}: only the owner's ops were committed"
    );
    assert_eq!(
        content["ops"],
        json!([{"insert": format!("{written}\n")}]),
        "seed {seed}"
    );
    c.server.stop().await;
}
