//! Hub requests between the nodes of a cluster. A document's hub runs on its owner, but the request that concerns
//! it may reach any node: a role change or a trash must reach its open sessions at once, and a named version or a
//! restore must be made by the hub itself. Role changes and evictions go to every node, which applies them to the
//! hub it runs, if any; versions and restores are asked of whichever node owns the document, which answers.
//! Carried by the store's peer channel (PostgreSQL LISTEN/NOTIFY); these JSON messages are private to Quire nodes
//! of the same version.

use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::oneshot;

use super::{
    Hubs,
    comments::{Actor, CommentAction, CommentDone, CommentError},
    peer_comments,
};
use crate::{
    ot::Delta,
    protocol::UserInfo,
    store::{Role, Store},
};

/// How long a node waits for the owner's answer before telling the person to try again.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
enum PeerMsg {
    SetRole {
        doc: String,
        user: String,
        role: Option<String>,
    },
    Evict {
        doc: String,
    },
    NameVersion {
        ask: Ask,
        doc: String,
        name: String,
        user: String,
    },
    Restore {
        ask: Ask,
        doc: String,
        version: String,
        user: Person,
    },
    Comment {
        ask: Ask,
        doc: String,
        user: String,
        role: String,
        action: CommentAction,
    },
    ListComments {
        ask: Ask,
        doc: String,
    },
    Answer {
        to: String,
        id: u64,
        result: Result<Value, String>,
    },
}

/// Who asked (node id) and which of its questions this is.
#[derive(Debug, Serialize, Deserialize)]
struct Ask {
    from: String,
    id: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Person {
    id: String,
    name: String,
    color: String,
}

/// This node's end of the channel; part of `Hubs` on a cluster node.
#[derive(Debug)]
pub struct Peers {
    node_id: String,
    next_id: AtomicU64,
    waiting: Mutex<HashMap<u64, oneshot::Sender<Result<Value, String>>>>,
}

impl Peers {
    pub fn new(node_id: &str) -> Peers {
        Peers {
            node_id: node_id.to_string(),
            next_id: AtomicU64::new(1),
            waiting: Mutex::new(HashMap::new()),
        }
    }

    fn waiting(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<u64, oneshot::Sender<Result<Value, String>>>> {
        self.waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Hubs {
    /// Tells every node (this one included) that a member's role changed.
    pub(super) async fn broadcast_role(
        &self,
        peers: &Peers,
        doc_id: &str,
        user_id: &str,
        role: Option<Role>,
    ) {
        let msg = PeerMsg::SetRole {
            doc: doc_id.to_string(),
            user: user_id.to_string(),
            role: role.map(|role| role.as_str().to_string()),
        };
        self.send_or_apply(peers, msg).await;
    }

    pub(super) async fn broadcast_evict(&self, peers: &Peers, doc_id: &str) {
        let msg = PeerMsg::Evict {
            doc: doc_id.to_string(),
        };
        self.send_or_apply(peers, msg).await;
    }

    /// When the database cannot carry the message, at least this node's hub hears it.
    async fn send_or_apply(&self, peers: &Peers, msg: PeerMsg) {
        let Ok(text) = serde_json::to_string(&msg) else {
            return;
        };
        if let Err(err) = self.inner.store.notify_peers(&text).await {
            tracing::error!(%err, "cannot reach the other nodes; applying here only");
            self.apply(peers, msg).await;
        }
    }

    pub(super) async fn remote_name_version(
        &self,
        peers: &Peers,
        doc_id: &str,
        name: String,
        user_id: String,
    ) -> Result<String, String> {
        let answer = self
            .ask_owner(peers, |ask| PeerMsg::NameVersion {
                ask,
                doc: doc_id.to_string(),
                name,
                user: user_id,
            })
            .await?;
        answer
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| "a malformed answer from the document's node".into())
    }

    pub(super) async fn remote_restore(
        &self,
        peers: &Peers,
        doc_id: &str,
        version_id: &str,
        user: UserInfo,
    ) -> Result<u64, String> {
        let answer = self
            .ask_owner(peers, |ask| PeerMsg::Restore {
                ask,
                doc: doc_id.to_string(),
                version: version_id.to_string(),
                user: Person {
                    id: user.id,
                    name: user.name,
                    color: user.color,
                },
            })
            .await?;
        answer
            .as_u64()
            .ok_or_else(|| "a malformed answer from the document's node".into())
    }

    pub(super) async fn remote_comment(
        &self,
        peers: &Peers,
        doc_id: &str,
        actor: Actor,
        action: CommentAction,
    ) -> Result<CommentDone, CommentError> {
        let answer = self
            .ask_owner(peers, |ask| PeerMsg::Comment {
                ask,
                doc: doc_id.to_string(),
                user: actor.user_id,
                role: actor.role.as_str().to_string(),
                action,
            })
            .await;
        peer_comments::decode_done(answer)
    }

    pub(super) async fn remote_list_comments(
        &self,
        peers: &Peers,
        doc_id: &str,
    ) -> Result<(u64, Vec<super::ThreadWire>), CommentError> {
        let answer = self
            .ask_owner(peers, |ask| PeerMsg::ListComments {
                ask,
                doc: doc_id.to_string(),
            })
            .await;
        peer_comments::decode_listing(answer)
    }

    async fn ask_owner(
        &self,
        peers: &Peers,
        make: impl FnOnce(Ask) -> PeerMsg,
    ) -> Result<Value, String> {
        let id = peers.next_id.fetch_add(1, Ordering::Relaxed);
        let (reply, answer) = oneshot::channel();
        peers.waiting().insert(id, reply);
        let msg = make(Ask {
            from: peers.node_id.clone(),
            id,
        });
        let sent = match serde_json::to_string(&msg) {
            Ok(text) => self
                .inner
                .store
                .notify_peers(&text)
                .await
                .map_err(|err| err.to_string()),
            Err(err) => Err(err.to_string()),
        };
        let result = match sent {
            Ok(()) => match tokio::time::timeout(ANSWER_TIMEOUT, answer).await {
                Ok(Ok(result)) => result,
                _ => Err("the document's node did not answer; try again".into()),
            },
            Err(err) => Err(format!("cannot reach the document's node: {err}")),
        };
        peers.waiting().remove(&id);
        result
    }

    /// Reads the channel for the life of the process, acting on what concerns this node.
    pub async fn serve_peers(self) {
        let Some(peers) = self.inner.peers.clone() else {
            return;
        };
        let store: Store = self.inner.store.clone();
        loop {
            let mut listener = match store.listen_peers().await {
                Ok(listener) => listener,
                Err(err) => {
                    tracing::error!(%err, "cannot listen to the other nodes; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            loop {
                match listener.recv().await {
                    Ok(Some(text)) => match serde_json::from_str::<PeerMsg>(&text) {
                        Ok(msg) => {
                            // Its own task: answering may wait on a hub, and the channel must keep flowing.
                            let hubs = self.clone();
                            let peers = peers.clone();
                            tokio::spawn(async move { hubs.apply(&peers, msg).await });
                        }
                        Err(err) => tracing::warn!(%err, "an unreadable message from another node"),
                    },
                    Ok(None) => {
                        tracing::warn!(
                            "the connection to the other nodes dropped; messages sent meanwhile are lost"
                        )
                    }
                    Err(err) => {
                        tracing::error!(%err, "listening to the other nodes failed; reconnecting");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        break;
                    }
                }
            }
        }
    }

    async fn apply(&self, peers: &Peers, msg: PeerMsg) {
        match msg {
            PeerMsg::SetRole { doc, user, role } => {
                let role = role.as_deref().and_then(Role::parse);
                self.local_set_role(&doc, &user, role).await;
            }
            PeerMsg::Evict { doc } => self.local_evict(&doc).await,
            PeerMsg::NameVersion {
                ask,
                doc,
                name,
                user,
            } => {
                if self.owns(&doc) {
                    let result = self
                        .local_name_version(&doc, name, user)
                        .await
                        .map(Value::from);
                    self.answer(ask, result).await;
                }
            }
            PeerMsg::Restore {
                ask,
                doc,
                version,
                user,
            } => {
                if self.owns(&doc) {
                    let user = UserInfo {
                        id: user.id,
                        name: user.name,
                        color: user.color,
                    };
                    let result = match self.version_content(&doc, &version).await {
                        Ok(content) => self
                            .local_restore(&doc, content, user)
                            .await
                            .map(Value::from),
                        Err(err) => Err(err),
                    };
                    self.answer(ask, result).await;
                }
            }
            PeerMsg::Comment {
                ask,
                doc,
                user,
                role,
                action,
            } => {
                if self.owns(&doc) {
                    let result = match peer_comments::actor(user, &role) {
                        Some(actor) => self.local_comment(&doc, actor, action).await,
                        None => Err(CommentError {
                            code: crate::protocol::ErrorCode::Internal,
                            msg: "a malformed request from another node".into(),
                        }),
                    };
                    self.answer(ask, Ok(peer_comments::encode_done(result)))
                        .await;
                }
            }
            PeerMsg::ListComments { ask, doc } => {
                if self.owns(&doc) {
                    let result = self.local_list_comments(&doc).await;
                    self.answer(ask, Ok(peer_comments::encode_listing(result)))
                        .await;
                }
            }
            PeerMsg::Answer { to, id, result } => {
                if to == peers.node_id
                    && let Some(reply) = peers.waiting().remove(&id)
                {
                    let _ = reply.send(result);
                }
            }
        }
    }

    async fn answer(&self, ask: Ask, result: Result<Value, String>) {
        let msg = PeerMsg::Answer {
            to: ask.from,
            id: ask.id,
            result,
        };
        if let Ok(text) = serde_json::to_string(&msg)
            && let Err(err) = self.inner.store.notify_peers(&text).await
        {
            tracing::error!(%err, "cannot answer another node");
        }
    }

    async fn version_content(&self, doc_id: &str, version_id: &str) -> Result<Delta, String> {
        let (_, content) = self
            .inner
            .store
            .version(doc_id, version_id)
            .await
            .map_err(|err| err.to_string())?
            .ok_or("no such version")?;
        let value: Value = serde_json::from_str(&content).map_err(|err| err.to_string())?;
        Delta::from_json_unchecked(&value).map_err(|err| err.to_string())
    }
}
