//! Sharing, table-driven (issue 6, test 1): every actor (owner, editor, commenter, viewer, link visitor, a
//! stranger, the signed-out) against every document action over the real HTTP API and WebSocket. Each cell runs
//! on a fresh document; it asserts the exact status and error code, and afterwards the whole document state read
//! from the database (title, trash, owner, members, links, content and rev): unchanged after a refusal, changed
//! exactly as intended after a success. Also: `editors_can_share`, e-mails without an account, and share links
//! for the signed-out.

use std::collections::{BTreeMap, BTreeSet};

use quire::store::{Role, Store};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite;

use crate::{
    hub_client::{TestSocket, client_id},
    support::{TestServer, TestUser, client},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    Owner,
    Editor,
    Commenter,
    Viewer,
    /// Opened the document's viewer link (`GET /s/{token}`) while signed in.
    LinkVisitor,
    /// Signed in, no access.
    NonMember,
    SignedOut,
}

const ACTORS: [Actor; 7] = [
    Actor::Owner,
    Actor::Editor,
    Actor::Commenter,
    Actor::Viewer,
    Actor::LinkVisitor,
    Actor::NonMember,
    Actor::SignedOut,
];

impl Actor {
    /// The role the document gives this actor.
    fn role(self) -> Option<&'static str> {
        match self {
            Actor::Owner => Some("owner"),
            Actor::Editor => Some("editor"),
            Actor::Commenter => Some("commenter"),
            Actor::Viewer | Actor::LinkVisitor => Some("viewer"),
            Actor::NonMember | Actor::SignedOut => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    ReadMeta,
    ReadContent,
    ReadMembers,
    /// Whether the document appears in the actor's `GET /api/docs`.
    List,
    Rename,
    SetEditorsCanShare,
    Trash,
    /// On a document the owner trashed first.
    Restore,
    /// On a document the owner trashed first.
    DeleteForever,
    /// On a document that is not in the trash.
    DeleteForeverUntrashed,
    /// PUT a signed-up stranger as viewer, by e-mail.
    AddMember,
    /// PUT the target member (a viewer) as editor, by id.
    ChangeRole,
    /// DELETE the target member.
    RemoveMember,
    /// DELETE oneself.
    Leave,
    CreateLink,
    RevokeLink,
    /// One op over the WebSocket.
    SubmitOp,
    /// PUT the target member as owner.
    TransferOwnership,
}

/// What one cell must answer.
#[derive(Clone, Copy, Debug)]
enum Expect {
    Ok(u16),
    Err(u16, &'static str),
    Listed(bool),
    Ack,
    /// An error frame in reply to the op (with its seq, not fatal).
    OpRefused(&'static str),
    /// The WebSocket upgrade itself answers this HTTP status.
    UpgradeStatus(u16),
    /// The upgrade succeeds, then a fatal error frame and the close.
    WsFatal(&'static str),
}

fn table() -> Vec<(Action, [Expect; 7])> {
    use Action::*;
    use Expect::{Ack, Err as E, Listed, OpRefused, UpgradeStatus, WsFatal};
    const OK: Expect = Expect::Ok(200);
    const CREATED: Expect = Expect::Ok(201);
    const GONE: Expect = Expect::Ok(204);
    const FORBID: Expect = E(403, "forbidden");
    const HIDDEN: Expect = E(404, "not_found");
    const ANON: Expect = E(401, "unauthorized");
    //  action                   owner                     editor  commenter viewer  link    stranger  signed out
    vec![
        (ReadMeta, [OK, OK, OK, OK, OK, HIDDEN, ANON]),
        (ReadContent, [OK, OK, OK, OK, OK, HIDDEN, ANON]),
        (ReadMembers, [OK, OK, OK, OK, OK, HIDDEN, ANON]),
        (
            List,
            [
                Listed(true),
                Listed(true),
                Listed(true),
                Listed(true),
                Listed(true),
                Listed(false),
                ANON,
            ],
        ),
        (Rename, [OK, OK, FORBID, FORBID, FORBID, HIDDEN, ANON]),
        (
            SetEditorsCanShare,
            [OK, FORBID, FORBID, FORBID, FORBID, HIDDEN, ANON],
        ),
        (Trash, [GONE, FORBID, FORBID, FORBID, FORBID, HIDDEN, ANON]),
        // A trashed document is the owner's alone: everyone else gets 404, as if it did not exist.
        (Restore, [OK, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, ANON]),
        (
            DeleteForever,
            [GONE, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, ANON],
        ),
        (
            DeleteForeverUntrashed,
            [
                E(409, "not_in_trash"),
                FORBID,
                FORBID,
                FORBID,
                FORBID,
                HIDDEN,
                ANON,
            ],
        ),
        (
            AddMember,
            [OK, FORBID, FORBID, FORBID, FORBID, HIDDEN, ANON],
        ),
        (
            ChangeRole,
            [OK, FORBID, FORBID, FORBID, FORBID, HIDDEN, ANON],
        ),
        (
            RemoveMember,
            [GONE, FORBID, FORBID, FORBID, FORBID, HIDDEN, ANON],
        ),
        (
            Leave,
            [E(409, "owner"), GONE, GONE, GONE, GONE, HIDDEN, ANON],
        ),
        (
            CreateLink,
            [CREATED, FORBID, FORBID, FORBID, FORBID, HIDDEN, ANON],
        ),
        (
            RevokeLink,
            [GONE, FORBID, FORBID, FORBID, FORBID, HIDDEN, ANON],
        ),
        (
            SubmitOp,
            [
                Ack,
                Ack,
                OpRefused("forbidden"),
                OpRefused("forbidden"),
                OpRefused("forbidden"),
                UpgradeStatus(404),
                WsFatal("unauthorized"),
            ],
        ),
        (
            TransferOwnership,
            [OK, FORBID, FORBID, FORBID, FORBID, HIDDEN, ANON],
        ),
    ]
}

/// The people of the matrix, signed up once; every cell shares them on its own fresh document.
pub struct Cast {
    pub server: TestServer,
    pub owner: TestUser,
    pub editor: TestUser,
    pub commenter: TestUser,
    pub viewer: TestUser,
    pub visitor: TestUser,
    pub stranger: TestUser,
    /// A viewer member, the target of role changes, removal and ownership transfer.
    pub target: TestUser,
    /// Signed up, never a member: the person the add-member cell adds.
    pub newcomer: TestUser,
    /// API tokens (for the WebSocket) by user id.
    tokens: BTreeMap<String, String>,
    anonymous: Client,
}

impl Cast {
    pub async fn new() -> Cast {
        Cast::new_on(crate::support::Backend::Sqlite).await
    }

    pub async fn new_on(backend: crate::support::Backend) -> Cast {
        let server = TestServer::start_on(backend, &[]).await;
        let mut users = Vec::new();
        for name in [
            "Olive Owner",
            "Eddie Editor",
            "Cora Commenter",
            "Vera Viewer",
            "Lino Link",
            "Stan Stranger",
            "Tess Target",
            "Nico Newcomer",
        ] {
            users.push(TestUser::signup(&server, name).await);
        }
        let mut tokens = BTreeMap::new();
        for user in &users {
            tokens.insert(user.id.clone(), user.api_token(&server).await);
        }
        let mut users = users.into_iter();
        let mut next = || users.next().expect("user");
        Cast {
            owner: next(),
            editor: next(),
            commenter: next(),
            viewer: next(),
            visitor: next(),
            stranger: next(),
            target: next(),
            newcomer: next(),
            server,
            tokens,
            anonymous: client(),
        }
    }

    pub fn user(&self, actor: Actor) -> Option<&TestUser> {
        match actor {
            Actor::Owner => Some(&self.owner),
            Actor::Editor => Some(&self.editor),
            Actor::Commenter => Some(&self.commenter),
            Actor::Viewer => Some(&self.viewer),
            Actor::LinkVisitor => Some(&self.visitor),
            Actor::NonMember => Some(&self.stranger),
            Actor::SignedOut => None,
        }
    }

    pub fn token(&self, user: &TestUser) -> &str {
        &self.tokens[&user.id]
    }

    pub fn addr(&self) -> String {
        self.server.addr.to_string()
    }

    /// A request as `user` (cookie session plus the CSRF header), or signed out.
    pub async fn call_as(
        &self,
        user: Option<&TestUser>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = match user {
            Some(user) => user
                .http
                .request(method.clone(), self.server.url(path))
                .header("X-CSRF-Token", &user.csrf),
            None => self
                .anonymous
                .request(method.clone(), self.server.url(path)),
        };
        if let Some(body) = body {
            request = request.json(&body);
        }
        request
            .send()
            .await
            .unwrap_or_else(|err| panic!("{method} {path}: {err}"))
    }

    /// A request that must answer `status`; returns the JSON body (`null` when empty).
    pub async fn must(
        &self,
        user: &TestUser,
        method: Method,
        path: &str,
        body: Option<Value>,
        status: u16,
    ) -> Value {
        let response = self.call_as(Some(user), method.clone(), path, body).await;
        let got = response.status();
        let text = response.text().await.unwrap_or_default();
        assert_eq!(
            got.as_u16(),
            status,
            "{} {method} {path}: {text}",
            user.name
        );
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::Null)
        }
    }

    /// A fresh document owned by `owner` with an editor, a commenter, two viewers (one the target) and a link
    /// visitor who came through a viewer link.
    pub async fn fixture(&self, tag: &str) -> Fixture {
        let title = format!("{tag}-{}", quire::auth::random_id(8).to_lowercase());
        let doc = self
            .must(
                &self.owner,
                Method::POST,
                "/api/docs",
                Some(json!({ "title": title })),
                201,
            )
            .await;
        let doc = doc["id"].as_str().expect("doc id").to_string();
        for (user, role) in [
            (&self.editor, "editor"),
            (&self.commenter, "commenter"),
            (&self.viewer, "viewer"),
            (&self.target, "viewer"),
        ] {
            self.must(
                &self.owner,
                Method::PUT,
                &format!("/api/docs/{doc}/members/{}", user.email),
                Some(json!({ "role": role })),
                200,
            )
            .await;
        }
        let link = self
            .must(
                &self.owner,
                Method::POST,
                &format!("/api/docs/{doc}/links"),
                Some(json!({"role": "viewer"})),
                201,
            )
            .await;
        let link_url = link["url"].as_str().expect("link url").to_string();
        open_link(&self.server, &self.visitor, &link_url, &doc).await;
        Fixture {
            doc,
            title,
            link_id: link["id"].as_str().expect("link id").to_string(),
            link_url,
        }
    }
}

pub struct Fixture {
    pub doc: String,
    pub title: String,
    pub link_id: String,
    pub link_url: String,
}

/// Opens a share link with `user`'s cookie client as a browser would: a page asks to confirm the join (unless the
/// link gives nothing new), whose form posts back to the link; the visitor must land on `/d/{doc}`.
pub async fn open_link(server: &TestServer, user: &TestUser, link_url: &str, doc: &str) {
    let prefix = format!("{}/s/", server.base);
    assert!(
        link_url.starts_with(&prefix),
        "a link URL is PUBLIC_URL/s/TOKEN: {link_url}"
    );
    let mut response = user.http.get(link_url).send().await.expect("GET /s/TOKEN");
    assert_eq!(response.status(), 200, "{} opening {link_url}", user.name);
    if response.url().path() != format!("/d/{doc}") {
        let page = response.text().await.expect("confirm page");
        assert!(page.contains("You'll join as"), "{page}");
        let csrf = crate::support::form_csrf(&page);
        response = crate::support::post_form(&user.http, link_url, &[("csrf", &csrf)]).await;
        assert_eq!(response.status(), 200, "{} joining {link_url}", user.name);
    }
    assert_eq!(
        response.url().path(),
        format!("/d/{doc}"),
        "{} was not sent to the document",
        user.name
    );
}

/// Everything sharing can change about a document, read from the database; `None` once it is deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocState {
    pub title: String,
    pub owner_id: String,
    pub trashed: bool,
    pub editors_can_share: bool,
    pub rev: u64,
    pub text: String,
    /// user id → (role, came through a link)
    pub members: BTreeMap<String, (Role, bool)>,
    /// (link id, role) of the active links
    pub links: BTreeSet<(String, Role)>,
}

pub async fn doc_state(store: &Store, doc: &str) -> Option<DocState> {
    let meta = store.document(doc).await.expect("read document")?;
    let (rev, delta) = quire::hub::load_content(store, doc)
        .await
        .expect("load content");
    assert_eq!(
        rev,
        u64::try_from(meta.head_rev).expect("rev"),
        "head_rev matches the log"
    );
    let members = store
        .members(doc)
        .await
        .expect("members")
        .into_iter()
        .map(|member| (member.user_id, (member.role, member.via_link.is_some())))
        .collect();
    let links = store
        .links(doc)
        .await
        .expect("links")
        .into_iter()
        .map(|link| (link.id, link.role))
        .collect();
    Some(DocState {
        title: meta.title,
        owner_id: meta.owner_id,
        trashed: meta.trashed_at.is_some(),
        editors_can_share: meta.editors_can_share,
        rev,
        text: delta.text(),
        members,
        links,
    })
}

fn renamed(actor: Actor) -> String {
    format!("renamed by {actor:?}")
}

fn request(
    c: &Cast,
    fx: &Fixture,
    action: Action,
    actor: Actor,
) -> (Method, String, Option<Value>) {
    let doc = &fx.doc;
    let base = format!("/api/docs/{doc}");
    let target = &c.target.id;
    match action {
        Action::ReadMeta => (Method::GET, base, None),
        Action::ReadContent => (Method::GET, format!("{base}/content"), None),
        Action::ReadMembers => (Method::GET, format!("{base}/members"), None),
        Action::List => (Method::GET, format!("/api/docs?q={}", fx.title), None),
        Action::Rename => (
            Method::PATCH,
            base,
            Some(json!({ "title": renamed(actor) })),
        ),
        Action::SetEditorsCanShare => (
            Method::PATCH,
            base,
            Some(json!({"editors_can_share": true})),
        ),
        Action::Trash => (Method::DELETE, base, None),
        Action::Restore => (Method::POST, format!("{base}/restore"), None),
        Action::DeleteForever | Action::DeleteForeverUntrashed => {
            (Method::DELETE, format!("{base}/forever"), None)
        }
        Action::AddMember => (
            Method::PUT,
            format!("{base}/members/{}", c.newcomer.email),
            Some(json!({"role": "viewer"})),
        ),
        Action::ChangeRole => (
            Method::PUT,
            format!("{base}/members/{target}"),
            Some(json!({"role": "editor"})),
        ),
        Action::RemoveMember => (Method::DELETE, format!("{base}/members/{target}"), None),
        Action::Leave => {
            let me = c.user(actor).map_or(&c.stranger.id, |user| &user.id);
            (Method::DELETE, format!("{base}/members/{me}"), None)
        }
        Action::CreateLink => (
            Method::POST,
            format!("{base}/links"),
            Some(json!({"role": "viewer"})),
        ),
        Action::RevokeLink => (Method::DELETE, format!("{base}/links/{}", fx.link_id), None),
        Action::TransferOwnership => (
            Method::PUT,
            format!("{base}/members/{target}"),
            Some(json!({"role": "owner"})),
        ),
        Action::SubmitOp => unreachable!("the op goes over the WebSocket"),
    }
}

/// Runs one cell and asserts its answer; returns the success body (for effects that depend on it).
async fn run_cell(
    c: &Cast,
    fx: &Fixture,
    action: Action,
    actor: Actor,
    expect: Expect,
) -> Option<Value> {
    let cell = format!("{action:?} by {actor:?}");
    if action == Action::SubmitOp {
        return submit_op(c, fx, actor, expect, &cell).await;
    }
    let (method, path, body) = request(c, fx, action, actor);
    let response = c.call_as(c.user(actor), method, &path, body).await;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let text = response.text().await.unwrap_or_default();
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    match expect {
        Expect::Err(want, code) => {
            assert_eq!(status, want, "{cell}: status ({text})");
            assert!(
                content_type.starts_with("application/json"),
                "{cell}: error content type {content_type:?}"
            );
            assert_eq!(body["error"]["code"], code, "{cell}: error code in {text}");
            assert!(
                body["error"]["message"]
                    .as_str()
                    .is_some_and(|message| !message.is_empty()),
                "{cell}: error message in {text}"
            );
            None
        }
        Expect::Ok(want) => {
            assert_eq!(status, want, "{cell}: status ({text})");
            check_success_body(c, fx, action, actor, &body, &cell);
            Some(body)
        }
        Expect::Listed(listed) => {
            assert_eq!(status, 200, "{cell}: status ({text})");
            let found: Vec<&Value> = body["docs"]
                .as_array()
                .unwrap_or_else(|| panic!("{cell}: docs array in {text}"))
                .iter()
                .filter(|doc| doc["id"] == fx.doc.as_str())
                .collect();
            assert_eq!(found.len(), usize::from(listed), "{cell}: listed? {text}");
            if let Some(doc) = found.first() {
                assert_eq!(doc["role"], actor.role().expect("role"), "{cell}: {doc}");
                // Shared documents are under "shared with me", owned ones under "owned".
                let scope = if actor == Actor::Owner {
                    "owned"
                } else {
                    "shared"
                };
                let other = if actor == Actor::Owner {
                    "shared"
                } else {
                    "owned"
                };
                for (scope, want) in [(scope, 1), (other, 0), ("trash", 0)] {
                    let path = format!("/api/docs?scope={scope}&q={}", fx.title);
                    let listed = c.call_as(c.user(actor), Method::GET, &path, None).await;
                    let listed: Value = listed.json().await.expect("list JSON");
                    let n = listed["docs"]
                        .as_array()
                        .expect("docs")
                        .iter()
                        .filter(|doc| doc["id"] == fx.doc.as_str())
                        .count();
                    assert_eq!(n, want, "{cell}: in scope {scope}? {listed}");
                }
            }
            None
        }
        other => panic!("{cell}: {other:?} is not an HTTP expectation"),
    }
}

fn check_success_body(
    c: &Cast,
    fx: &Fixture,
    action: Action,
    actor: Actor,
    body: &Value,
    cell: &str,
) {
    let role = actor.role().expect("a successful actor has a role");
    match action {
        Action::ReadMeta => {
            assert_eq!(body["id"], fx.doc.as_str(), "{cell}: {body}");
            assert_eq!(body["title"], fx.title.as_str(), "{cell}: {body}");
            assert_eq!(body["role"], role, "{cell}: {body}");
            assert_eq!(body["owner"]["id"], c.owner.id.as_str(), "{cell}: {body}");
        }
        Action::ReadContent => assert_eq!(
            body,
            &json!({"rev": 0, "ops": [{"insert": "\n"}]}),
            "{cell}"
        ),
        Action::ReadMembers => {
            let members = body["members"].as_array().expect("members");
            let people: BTreeMap<&str, (&str, bool)> = members
                .iter()
                .map(|member| {
                    (
                        member["id"].as_str().expect("id"),
                        (
                            member["role"].as_str().expect("role"),
                            member["via_link"] == true,
                        ),
                    )
                })
                .collect();
            let want: BTreeMap<&str, (&str, bool)> = [
                (c.owner.id.as_str(), ("owner", false)),
                (c.editor.id.as_str(), ("editor", false)),
                (c.commenter.id.as_str(), ("commenter", false)),
                (c.viewer.id.as_str(), ("viewer", false)),
                (c.target.id.as_str(), ("viewer", false)),
                (c.visitor.id.as_str(), ("viewer", true)),
            ]
            .into_iter()
            .collect();
            assert_eq!(people, want, "{cell}: {body}");
            assert_eq!(members[0]["role"], "owner", "{cell}: the owner comes first");
            // E-mails are for those who may share; everyone else sees names, and their own e-mail only.
            let me = c.user(actor).map(|user| user.id.as_str());
            for member in members {
                let own = member["id"].as_str() == me;
                assert_eq!(
                    member.get("email").is_some(),
                    actor == Actor::Owner || own,
                    "{cell}: {member}"
                );
                assert!(member["name"].is_string(), "{cell}: {member}");
            }
            // Links are the owner's business.
            let n_links = if actor == Actor::Owner { 1 } else { 0 };
            assert_eq!(
                body["links"].as_array().map(Vec::len),
                Some(n_links),
                "{cell}: {body}"
            );
            if actor == Actor::Owner {
                assert_eq!(body["links"][0]["id"], fx.link_id.as_str(), "{cell}");
                assert_eq!(body["links"][0]["role"], "viewer", "{cell}");
            }
            assert_eq!(body["can_share"], actor == Actor::Owner, "{cell}: {body}");
            assert_eq!(body["editors_can_share"], false, "{cell}: {body}");
        }
        Action::Rename => assert_eq!(body["title"], renamed(actor), "{cell}: {body}"),
        Action::SetEditorsCanShare => {
            assert_eq!(body["editors_can_share"], true, "{cell}: {body}")
        }
        Action::Restore => assert_eq!(body["trashed"], false, "{cell}: {body}"),
        Action::AddMember => {
            assert_eq!(body["id"], c.newcomer.id.as_str(), "{cell}: {body}");
            assert_eq!(body["role"], "viewer", "{cell}: {body}");
        }
        Action::ChangeRole => assert_eq!(body["role"], "editor", "{cell}: {body}"),
        Action::TransferOwnership => {
            assert_eq!(body["id"], c.target.id.as_str(), "{cell}: {body}");
            assert_eq!(body["role"], "owner", "{cell}: {body}");
        }
        Action::CreateLink => {
            assert_eq!(body["role"], "viewer", "{cell}: {body}");
            let url = body["url"].as_str().expect("url");
            assert!(
                url.starts_with(&format!("{}/s/", c.server.base)) && url != fx.link_url,
                "{cell}: a new PUBLIC_URL/s/TOKEN link: {body}"
            );
        }
        _ => assert!(body.is_null(), "{cell}: no body expected: {body}"),
    }
}

async fn submit_op(
    c: &Cast,
    fx: &Fixture,
    actor: Actor,
    expect: Expect,
    cell: &str,
) -> Option<Value> {
    let op = json!({"t": "op", "rev": 0, "seq": 1, "op": [{"insert": "x"}]});
    let addr = c.addr();
    match (expect, c.user(actor)) {
        (Expect::Ack | Expect::OpRefused(_), Some(user)) => {
            let mut socket = TestSocket::connect(&addr, &fx.doc, c.token(user)).await;
            let welcome = socket.hello(&client_id("matrix"), None).await;
            assert_eq!(welcome["role"], actor.role().expect("role"), "{cell}");
            socket.send(op).await;
            let reply = socket.recv().await;
            match expect {
                Expect::Ack => {
                    assert_eq!(reply, json!({"t": "ack", "seq": 1, "rev": 0}), "{cell}");
                    Some(reply)
                }
                Expect::OpRefused(code) => {
                    assert_eq!(reply["t"], "error", "{cell}: {reply}");
                    assert_eq!(reply["code"], code, "{cell}: {reply}");
                    assert_eq!(reply["seq"], 1, "{cell}: {reply}");
                    assert_eq!(reply["fatal"], false, "{cell}: {reply}");
                    None
                }
                _ => unreachable!(),
            }
        }
        (Expect::UpgradeStatus(status), Some(user)) => {
            match upgrade_status(&addr, &fx.doc, c.token(user)).await {
                Err(got) => assert_eq!(got, status, "{cell}: upgrade status"),
                Ok(_) => panic!("{cell}: the upgrade succeeded"),
            }
            None
        }
        (Expect::WsFatal(code), None) => {
            let (ws, _) =
                tokio_tungstenite::connect_async(format!("ws://{addr}/api/docs/{}/ws", fx.doc))
                    .await
                    .expect("the upgrade succeeds without credentials");
            let mut socket = TestSocket { ws };
            let reply = socket.recv().await;
            assert_eq!(reply["t"], "error", "{cell}: {reply}");
            assert_eq!(reply["code"], code, "{cell}: {reply}");
            assert_eq!(reply["fatal"], true, "{cell}: {reply}");
            assert!(
                socket
                    .closed_within(std::time::Duration::from_secs(5))
                    .await,
                "{cell}: the socket closes"
            );
            None
        }
        (expect, _) => panic!("{cell}: {expect:?} is not a WebSocket expectation"),
    }
}

/// Opens the document's WebSocket with a Bearer token: the socket, or the HTTP status the upgrade answered.
pub async fn upgrade_status(addr: &str, doc: &str, token: &str) -> Result<TestSocket, u16> {
    let mut request = tungstenite::client::IntoClientRequest::into_client_request(format!(
        "ws://{addr}/api/docs/{doc}/ws"
    ))
    .expect("request");
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    match tokio_tungstenite::connect_async(request).await {
        Ok((ws, _)) => Ok(TestSocket { ws }),
        Err(tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
        Err(other) => panic!("WebSocket connect to {doc}: {other}"),
    }
}

/// The state a successful cell must leave.
fn apply(
    c: &Cast,
    fx: &Fixture,
    before: &DocState,
    action: Action,
    actor: Actor,
    body: &Value,
) -> Option<DocState> {
    let mut state = before.clone();
    match action {
        Action::ReadMeta | Action::ReadContent | Action::ReadMembers | Action::List => {}
        Action::Rename => state.title = renamed(actor),
        Action::SetEditorsCanShare => state.editors_can_share = true,
        Action::Trash => state.trashed = true,
        Action::Restore => state.trashed = false,
        Action::DeleteForever => return None,
        Action::DeleteForeverUntrashed => panic!("never succeeds"),
        Action::AddMember => {
            state
                .members
                .insert(c.newcomer.id.clone(), (Role::Viewer, false));
        }
        Action::ChangeRole => {
            state
                .members
                .insert(c.target.id.clone(), (Role::Editor, false));
        }
        Action::RemoveMember => {
            state.members.remove(&c.target.id);
        }
        Action::Leave => {
            state.members.remove(&c.user(actor).expect("a member").id);
        }
        Action::CreateLink => {
            state.links.insert((
                body["id"].as_str().expect("link id").to_string(),
                Role::Viewer,
            ));
        }
        Action::RevokeLink => {
            state.links.remove(&(fx.link_id.clone(), Role::Viewer));
            // Whoever came through the link loses access with it.
            state.members.remove(&c.visitor.id);
        }
        Action::SubmitOp => {
            state.rev += 1;
            state.text = format!("x{}", state.text);
        }
        Action::TransferOwnership => {
            state.members.remove(&c.target.id);
            state
                .members
                .insert(before.owner_id.clone(), (Role::Editor, false));
            state.owner_id = c.target.id.clone();
        }
    }
    Some(state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_actor_against_every_action() {
    let c = Cast::new().await;
    let store = c.server.store().await;
    let mut n_cells = 0;
    for (action, row) in table() {
        for (actor, expect) in ACTORS.into_iter().zip(row) {
            let fx = c.fixture(&format!("m-{action:?}-{actor:?}")).await;
            if matches!(action, Action::Restore | Action::DeleteForever) {
                c.must(
                    &c.owner,
                    Method::DELETE,
                    &format!("/api/docs/{}", fx.doc),
                    None,
                    204,
                )
                .await;
            }
            let before = doc_state(&store, &fx.doc)
                .await
                .expect("the fixture exists");
            let success = run_cell(&c, &fx, action, actor, expect).await;
            let after = doc_state(&store, &fx.doc).await;
            let want = match &success {
                Some(body) => apply(&c, &fx, &before, action, actor, body),
                None => Some(before.clone()),
            };
            assert_eq!(
                after, want,
                "{action:?} by {actor:?} ({expect:?}): the document state"
            );
            n_cells += 1;
        }
    }
    assert_eq!(n_cells, table().len() * ACTORS.len());
    c.server.stop().await;
}

impl Cast {
    /// A request that must be refused with `status` and `code`, leaving the document exactly as it was.
    pub async fn refused(
        &self,
        doc: &str,
        user: Option<&TestUser>,
        (method, path, body): (Method, String, Option<Value>),
        status: u16,
        code: &str,
    ) -> Value {
        let store = self.server.store().await;
        let before = doc_state(&store, doc).await;
        let who = user.map_or("signed out", |user| user.name.as_str());
        let response = self.call_as(user, method.clone(), &path, body).await;
        let got = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        assert_eq!(got, status, "{who} {method} {path}: {text}");
        let body: Value = serde_json::from_str(&text).expect("a JSON error");
        assert_eq!(body["error"]["code"], code, "{who} {method} {path}: {text}");
        assert_eq!(
            doc_state(&store, doc).await,
            before,
            "{who} {method} {path} was refused but changed the document"
        );
        body
    }
}

fn put_role(path: &str, role: &str) -> (Method, String, Option<Value>) {
    (Method::PUT, path.to_string(), Some(json!({ "role": role })))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editors_share_only_when_the_owner_allows_it() {
    let c = Cast::new().await;
    let store = c.server.store().await;
    let fx = c.fixture("editors-can-share").await;
    let doc = fx.doc.as_str();
    let member = |who: &str| format!("/api/docs/{doc}/members/{who}");
    let newcomer = member(&c.newcomer.email);
    let refuse = |user: &'static str,
                  (method, path, body): (Method, String, Option<Value>),
                  status: u16,
                  code: &'static str| {
        let c = &c;
        async move {
            let user = match user {
                "editor" => &c.editor,
                "commenter" => &c.commenter,
                "viewer" => &c.viewer,
                "visitor" => &c.visitor,
                _ => unreachable!(),
            };
            c.refused(doc, Some(user), (method, path, body), status, code)
                .await;
        }
    };

    // Not allowed yet: the editor can neither share nor allow themselves to.
    let listed = c
        .must(
            &c.editor,
            Method::GET,
            &format!("/api/docs/{doc}/members"),
            None,
            200,
        )
        .await;
    assert_eq!(listed["can_share"], false, "{listed}");
    assert_eq!(listed["editors_can_share"], false, "{listed}");
    refuse("editor", put_role(&newcomer, "viewer"), 403, "forbidden").await;
    refuse(
        "editor",
        put_role(&member(&c.target.id), "editor"),
        403,
        "forbidden",
    )
    .await;
    refuse(
        "editor",
        (Method::DELETE, member(&c.target.id), None),
        403,
        "forbidden",
    )
    .await;
    let allow = |allowed: bool| {
        (
            Method::PATCH,
            format!("/api/docs/{doc}"),
            Some(json!({ "editors_can_share": allowed })),
        )
    };
    refuse("editor", allow(true), 403, "forbidden").await;

    // The owner allows it.
    let (method, path, body) = allow(true);
    let meta = c.must(&c.owner, method, &path, body, 200).await;
    assert_eq!(meta["editors_can_share"], true, "{meta}");
    let state = doc_state(&store, doc).await.expect("doc");
    assert!(state.editors_can_share);
    for (user, can) in [
        (&c.owner, true),
        (&c.editor, true),
        (&c.commenter, false),
        (&c.viewer, false),
        (&c.visitor, false),
    ] {
        let listed = c
            .must(
                user,
                Method::GET,
                &format!("/api/docs/{doc}/members"),
                None,
                200,
            )
            .await;
        assert_eq!(listed["can_share"], can, "{}: {listed}", user.name);
        assert_eq!(listed["editors_can_share"], true, "{}: {listed}", user.name);
        let emails = listed["members"]
            .as_array()
            .expect("members")
            .iter()
            .filter(|member| member.get("email").is_some())
            .count();
        let everyone = listed["members"].as_array().map_or(0, Vec::len);
        assert_eq!(
            emails,
            if can { everyone } else { 1 },
            "e-mails for sharers, else one's own: {}: {listed}",
            user.name
        );
    }

    // Now the editor adds, changes and removes people.
    let added = c
        .must(
            &c.editor,
            Method::PUT,
            &newcomer,
            Some(json!({"role": "viewer"})),
            200,
        )
        .await;
    assert_eq!(added["id"], c.newcomer.id.as_str(), "{added}");
    let meta = c
        .must(
            &c.newcomer,
            Method::GET,
            &format!("/api/docs/{doc}"),
            None,
            200,
        )
        .await;
    assert_eq!(meta["role"], "viewer", "{meta}");
    c.must(
        &c.editor,
        Method::PUT,
        &newcomer,
        Some(json!({"role": "commenter"})),
        200,
    )
    .await;
    let state = doc_state(&store, doc).await.expect("doc");
    assert_eq!(
        state.members.get(&c.newcomer.id),
        Some(&(Role::Commenter, false))
    );
    c.must(&c.editor, Method::DELETE, &newcomer, None, 204)
        .await;
    c.must(
        &c.newcomer,
        Method::GET,
        &format!("/api/docs/{doc}"),
        None,
        404,
    )
    .await;

    // But never ownership, the owner's role, links, or the setting itself.
    refuse(
        "editor",
        put_role(&member(&c.target.id), "owner"),
        403,
        "forbidden",
    )
    .await;
    refuse(
        "editor",
        put_role(&member(&c.editor.id), "owner"),
        403,
        "forbidden",
    )
    .await;
    refuse(
        "editor",
        put_role(&member(&c.owner.id), "viewer"),
        409,
        "owner",
    )
    .await;
    refuse(
        "editor",
        put_role(&member(&c.owner.email), "editor"),
        409,
        "owner",
    )
    .await;
    refuse(
        "editor",
        (Method::DELETE, member(&c.owner.id), None),
        409,
        "owner",
    )
    .await;
    refuse(
        "editor",
        (
            Method::POST,
            format!("/api/docs/{doc}/links"),
            Some(json!({"role": "viewer"})),
        ),
        403,
        "forbidden",
    )
    .await;
    refuse(
        "editor",
        (
            Method::DELETE,
            format!("/api/docs/{doc}/links/{}", fx.link_id),
            None,
        ),
        403,
        "forbidden",
    )
    .await;
    refuse("editor", allow(false), 403, "forbidden").await;
    refuse(
        "editor",
        (Method::DELETE, format!("/api/docs/{doc}"), None),
        403,
        "forbidden",
    )
    .await;
    // The setting is for editors only.
    for user in ["commenter", "viewer", "visitor"] {
        refuse(user, put_role(&newcomer, "viewer"), 403, "forbidden").await;
        refuse(
            user,
            put_role(&member(&c.target.id), "editor"),
            403,
            "forbidden",
        )
        .await;
        refuse(
            user,
            (Method::DELETE, member(&c.target.id), None),
            403,
            "forbidden",
        )
        .await;
    }

    // The owner takes it back: the editor is refused again.
    let (method, path, body) = allow(false);
    c.must(&c.owner, method, &path, body, 200).await;
    refuse("editor", put_role(&newcomer, "viewer"), 403, "forbidden").await;
    c.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_without_an_account_is_a_clear_404() {
    // Open sign-up: no invitation, a hint to sign up.
    let c = Cast::new().await;
    let fx = c.fixture("no-account").await;
    let path = format!("/api/docs/{}/members/nobody.here@example.test", fx.doc);
    let body = c
        .refused(
            &fx.doc,
            Some(&c.owner),
            put_role(&path, "viewer"),
            404,
            "no_account",
        )
        .await;
    assert!(body["error"].get("invite_url").is_none(), "{body}");
    let message = body["error"]["message"].as_str().expect("message");
    assert!(message.contains("/signup"), "{message}");
    // Someone who may not share learns nothing about accounts.
    c.refused(
        &fx.doc,
        Some(&c.viewer),
        put_role(&path, "viewer"),
        403,
        "forbidden",
    )
    .await;
    c.refused(
        &fx.doc,
        Some(&c.stranger),
        put_role(&path, "viewer"),
        404,
        "not_found",
    )
    .await;
    c.server.stop().await;

    // Invite-only sign-up: when an administrator shares, the error carries an invitation link, and signing up with
    // it works.
    let admin = "ingrid.admin@example.test";
    let server = TestServer::start_with(&[("auth.signup", "invite"), ("auth.admins", admin)]).await;
    let owner = invited_user(&server, "Ingrid Inviter", admin).await;
    let doc = owner.new_document(&server, "invite-only").await;
    let email = format!(
        "Newbie.{}@Example.test",
        quire::auth::random_id(6).to_lowercase()
    );
    let response = owner
        .http
        .put(server.url(&format!("/api/docs/{doc}/members/{email}")))
        .header("X-CSRF-Token", &owner.csrf)
        .json(&json!({"role": "editor"}))
        .send()
        .await
        .expect("PUT member");
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.expect("error JSON");
    assert_eq!(body["error"]["code"], "no_account", "{body}");
    let invite_url = body["error"]["invite_url"]
        .as_str()
        .unwrap_or_else(|| panic!("invite_url in {body}"));
    let prefix = format!("{}/signup?invite=", server.base);
    assert!(invite_url.starts_with(&prefix), "{invite_url}");
    let invite = &invite_url[prefix.len()..];
    // The sign-up page of the link carries the invitation.
    let page = client()
        .get(invite_url)
        .send()
        .await
        .expect("GET invite url");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("page").contains(invite));
    // Without the invitation (or with it, for another address) sign-up is refused.
    let signup_url = server.url("/api/auth/signup");
    let signup = |email: String, invite: Option<String>| {
        let url = signup_url.clone();
        async move {
            let http = client();
            let response = http
                .post(url)
                .json(&json!({"email": email, "name": "Newbie", "password": "newbie password", "invite": invite}))
                .send()
                .await
                .expect("sign up");
            (http, response)
        }
    };
    let (_, refused) = signup(email.clone(), None).await;
    assert_eq!(refused.status(), 403);
    let (_, refused) = signup("other@example.test".into(), Some(invite.to_string())).await;
    assert_eq!(refused.status(), 403);
    let (newbie, response) = signup(email.to_lowercase(), Some(invite.to_string())).await;
    assert_eq!(response.status(), 201, "sign-up with the invitation");
    let newbie_csrf = crate::support::cookie_value(&response, "quire_csrf");
    let newbie_id = response.json::<Value>().await.expect("user")["id"]
        .as_str()
        .expect("id")
        .to_string();
    // Sharing again now works, and the newcomer sees the document with the role.
    let response = owner
        .http
        .put(server.url(&format!("/api/docs/{doc}/members/{email}")))
        .header("X-CSRF-Token", &owner.csrf)
        .json(&json!({"role": "editor"}))
        .send()
        .await
        .expect("PUT member");
    assert_eq!(response.status(), 200);
    let shared: Value = response.json().await.expect("member JSON");
    assert_eq!(shared["id"], newbie_id.as_str(), "{shared}");
    let meta: Value = newbie
        .get(server.url(&format!("/api/docs/{doc}")))
        .send()
        .await
        .expect("GET doc")
        .json()
        .await
        .expect("doc JSON");
    assert_eq!(meta["role"], "editor", "{meta}");
    // An invitation is used once.
    let (_, reused) = signup(email.clone(), Some(invite.to_string())).await;
    assert_ne!(reused.status(), 201);
    // Removing someone without an account is a plain 404 for a sharer and 403 for anyone else; neither mints an
    // invitation.
    let stranger = format!("/api/docs/{doc}/members/stranger.{email}");
    let response = owner
        .http
        .delete(server.url(&stranger))
        .header("X-CSRF-Token", &owner.csrf)
        .send()
        .await
        .expect("DELETE member");
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.expect("error JSON");
    assert_eq!(body["error"]["code"], "not_found", "{body}");
    let newbie_csrf = newbie_csrf.expect("csrf cookie");
    let response = newbie
        .delete(server.url(&stranger))
        .header("X-CSRF-Token", &newbie_csrf)
        .send()
        .await
        .expect("DELETE member");
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.expect("error JSON");
    assert_eq!(body["error"]["code"], "forbidden", "{body}");
    assert!(body["error"].get("invite_url").is_none(), "{body}");
    // Something that is not an e-mail address gets no invitation.
    let response = owner
        .http
        .put(server.url(&format!("/api/docs/{doc}/members/not-an-address")))
        .header("X-CSRF-Token", &owner.csrf)
        .json(&json!({"role": "editor"}))
        .send()
        .await
        .expect("PUT member");
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.expect("error JSON");
    assert_eq!(body["error"]["code"], "no_account", "{body}");
    assert!(body["error"].get("invite_url").is_none(), "{body}");
    server.stop().await;
}

/// Signs up through an invitation arranged in the database (for servers with invite-only sign-up).
async fn invited_user(server: &TestServer, name: &str, email: &str) -> TestUser {
    let email = email.to_string();
    let token = quire::auth::new_token();
    server
        .store()
        .await
        .create_invite(&quire::auth::token_hash(&token), &email, None)
        .await
        .expect("create invite");
    let http = client();
    let password = "inviter password".to_string();
    let response = http
        .post(server.url("/api/auth/signup"))
        .json(&json!({"email": email, "name": name, "password": password, "invite": token}))
        .send()
        .await
        .expect("sign up");
    assert_eq!(response.status(), 201);
    let csrf = crate::support::cookie_value(&response, "quire_csrf").expect("csrf cookie");
    let user: Value = response.json().await.expect("user JSON");
    TestUser {
        http,
        id: user["id"].as_str().expect("id").to_string(),
        email,
        name: name.to_string(),
        password,
        csrf,
    }
}

/// Sharing creates no more accounts than `auth.signup` allows: in "invite" mode only an administrator's share makes
/// an invitation, in "closed" mode nobody's does; the others are told to ask an administrator.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_what_signup_allows_makes_invitations_through_sharing() {
    for (policy, admin_invites) in [("invite", true), ("closed", false)] {
        let admin_email = format!("boss.{policy}@example.test");
        let server =
            TestServer::start_with(&[("auth.signup", policy), ("auth.admins", &admin_email)]).await;
        let store = server.store().await;
        let admin = invited_or_added(&server, &store, "Boss", &admin_email).await;
        let member = invited_or_added(
            &server,
            &store,
            "Mia Member",
            &format!("mia.{policy}@example.test"),
        )
        .await;
        for (sharer, is_admin) in [(&member, false), (&admin, true)] {
            let doc = sharer.new_document(&server, "invitations").await;
            let newcomer = format!(
                "newcomer.{}@example.test",
                quire::auth::random_id(6).to_lowercase()
            );
            let response = sharer
                .http
                .put(server.url(&format!("/api/docs/{doc}/members/{newcomer}")))
                .header("X-CSRF-Token", &sharer.csrf)
                .json(&json!({"role": "viewer"}))
                .send()
                .await
                .expect("PUT member");
            assert_eq!(response.status(), 404, "{policy}, admin {is_admin}");
            let body: Value = response.json().await.expect("error JSON");
            assert_eq!(body["error"]["code"], "no_account", "{body}");
            let message = body["error"]["message"].as_str().expect("message");
            let invited = body["error"].get("invite_url").is_some();
            assert_eq!(
                invited,
                is_admin && admin_invites,
                "{policy}, admin {is_admin}: {body}"
            );
            if !invited {
                assert!(message.contains("administrator"), "{message}");
            }
        }
        store.close().await;
        server.stop().await;
    }
}

/// An account on a server whose sign-up is "invite" (through an invitation) or "closed" (made in the database, as
/// `quire user add` does).
async fn invited_or_added(server: &TestServer, store: &Store, name: &str, email: &str) -> TestUser {
    if server.config.auth.signup == quire::config::SignupPolicy::Invite {
        return invited_user(server, name, email).await;
    }
    let password = "added password".to_string();
    let hash = quire::auth::hash_password(&password).expect("hash");
    let user = store
        .create_user(&quire::auth::random_id(16), email, name, &hash)
        .await
        .expect("create user");
    let http = client();
    let response = crate::support::post_login(&http, server, email, &password).await;
    assert_eq!(response.status(), 200);
    let csrf = crate::support::cookie_value(&response, "quire_csrf").expect("csrf cookie");
    TestUser {
        http,
        id: user.id,
        email: email.to_string(),
        name: name.to_string(),
        password,
        csrf,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_share_link_asks_the_signed_out_to_sign_in_first() {
    let c = Cast::new().await;
    let store = c.server.store().await;
    let fx = c.fixture("signed-out-link").await;
    let token = fx.link_url.rsplit('/').next().expect("token");
    let before = doc_state(&store, &fx.doc).await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("client");
    let response = no_redirects
        .get(&fx.link_url)
        .send()
        .await
        .expect("GET link");
    assert!(response.status().is_redirection(), "{}", response.status());
    assert_eq!(
        response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|value| value.to_str().ok()),
        Some(format!("/login?next=/s/{token}").as_str())
    );
    assert_eq!(doc_state(&store, &fx.doc).await, before, "nobody was added");
    // Signing in on that page comes back to the link, which asks to confirm; the join gives access.
    let http = client();
    let login = http.get(&fx.link_url).send().await.expect("GET link");
    assert_eq!(login.url().path(), "/login");
    let csrf = crate::support::form_csrf(&login.text().await.expect("login page"));
    let landed = crate::support::post_form(
        &http,
        &c.server.url("/login"),
        &[
            ("csrf", &csrf),
            ("email", &c.stranger.email),
            ("password", &c.stranger.password),
            ("next", &format!("/s/{token}")),
        ],
    )
    .await;
    assert_eq!(landed.status(), 200);
    assert_eq!(
        landed.url().path(),
        format!("/s/{token}"),
        "back on the link, which asks first"
    );
    assert_eq!(
        doc_state(&store, &fx.doc).await,
        before,
        "nobody was added yet"
    );
    let csrf = crate::support::form_csrf(&landed.text().await.expect("confirm page"));
    let joined = crate::support::post_form(&http, &fx.link_url, &[("csrf", &csrf)]).await;
    assert_eq!(joined.status(), 200);
    assert_eq!(joined.url().path(), format!("/d/{}", fx.doc));
    let state = doc_state(&store, &fx.doc).await.expect("doc");
    assert_eq!(
        state.members.get(&c.stranger.id),
        Some(&(Role::Viewer, true))
    );
    // A member with a stronger role keeps it when they open a weaker link.
    open_link(&c.server, &c.editor, &fx.link_url, &fx.doc).await;
    let after = doc_state(&store, &fx.doc).await.expect("doc");
    assert_eq!(
        after.members.get(&c.editor.id),
        Some(&(Role::Editor, false))
    );
    // A revoked link is a 404 page, for everyone, and adds nobody.
    c.must(
        &c.owner,
        Method::DELETE,
        &format!("/api/docs/{}/links/{}", fx.doc, fx.link_id),
        None,
        204,
    )
    .await;
    let before = doc_state(&store, &fx.doc).await;
    for user in [&c.newcomer, &c.visitor] {
        let response = user.http.get(&fx.link_url).send().await.expect("GET link");
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{}", user.name);
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(content_type.starts_with("text/html"), "{content_type}");
    }
    assert_eq!(doc_state(&store, &fx.doc).await, before);
    // Revoking it again is a 404.
    c.refused(
        &fx.doc,
        Some(&c.owner),
        (
            Method::DELETE,
            format!("/api/docs/{}/links/{}", fx.doc, fx.link_id),
            None,
        ),
        404,
        "not_found",
    )
    .await;
    c.server.stop().await;
}
