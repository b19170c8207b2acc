//! The cluster: which nodes are members (from ZooKeeper, in `zookeeper.rs`, the only file that knows it) and
//! which node owns each document (the pure `ring`). Publishes the current `View` through a `watch` channel;
//! `http` asks `route` before it opens a document, and `server` hands documents off when the view changes.
//! Nothing here calls `http` or `hub`.

pub mod ring;
mod zookeeper;

use std::sync::Arc;

use prometheus_client::{
    metrics::{counter::Counter, gauge::Gauge},
    registry::Registry,
};
use tokio::sync::watch;

pub use ring::Ring;
pub use zookeeper::{ClusterError, join, read_members};

use crate::store::Fence;

/// One registered node, as every member sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: String,
    /// Its `cluster.advertise_url`.
    pub url: String,
    /// Its registration epoch: the ZooKeeper transaction id that created its registration, which grows with
    /// every (re)join anywhere in the cluster.
    pub epoch: i64,
}

/// What this node currently believes about the cluster.
#[derive(Debug, Clone)]
pub struct View {
    /// This node is a registered member with a live ZooKeeper session. While false it owns nothing.
    pub live: bool,
    /// The membership version (ZooKeeper's child version of the members' znode): it grows with every join and
    /// leave, and is the number ownership claims are fenced with.
    pub version: i64,
    /// Sorted by id.
    pub members: Vec<Member>,
    pub ring: Ring,
    /// This node's registration epoch (0 before it first registered).
    pub epoch: i64,
}

impl View {
    fn offline(virtual_nodes: u32) -> View {
        View {
            live: false,
            version: -1,
            members: Vec::new(),
            ring: Ring::new(Vec::<String>::new(), virtual_nodes),
            epoch: 0,
        }
    }

    pub fn member(&self, id: &str) -> Option<&Member> {
        self.members.iter().find(|member| member.id == id)
    }
}

/// Where a document's WebSocket belongs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// On this node, which claims it with this fence.
    Here(Fence),
    /// On another member.
    There(Member),
    /// Nowhere right now: this node is not a live member (its session expired and it is rejoining).
    Unavailable,
}

/// A handle to this node's membership; cheap to clone.
#[derive(Debug, Clone)]
pub struct Cluster {
    node_id: Arc<str>,
    view: watch::Receiver<Arc<View>>,
    pub metrics: ClusterMetrics,
    /// Asks the membership task to leave the cluster (shutdown); it answers once it has.
    leave: Arc<tokio::sync::Mutex<Option<LeaveRequests>>>,
}

/// Each request carries the sender that says it is done.
type LeaveRequests = tokio::sync::mpsc::Sender<tokio::sync::oneshot::Sender<()>>;

/// `/metrics` of a cluster node (hand-offs and fenced commits are the hub's).
#[derive(Debug, Clone, Default)]
pub struct ClusterMetrics {
    pub members: Gauge,
    pub live: Gauge,
    pub redirects: Counter,
}

impl ClusterMetrics {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "quire_cluster_members",
            "Live members in this node's view of the cluster",
            self.members.clone(),
        );
        registry.register(
            "quire_cluster_live",
            "1 while this node is a registered member with a live ZooKeeper session",
            self.live.clone(),
        );
        registry.register(
            "quire_cluster_redirects",
            "WebSocket clients sent to the node that owns their document",
            self.redirects.clone(),
        );
    }

    /// Follows a new view.
    pub fn observe(&self, view: &View) {
        self.members.set(view.members.len() as i64);
        self.live.set(i64::from(view.live));
    }
}

impl Cluster {
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// The current view.
    pub fn view(&self) -> Arc<View> {
        self.view.borrow().clone()
    }

    /// A receiver woken on every change of the view.
    pub fn changes(&self) -> watch::Receiver<Arc<View>> {
        self.view.clone()
    }

    pub fn is_live(&self) -> bool {
        self.view.borrow().live
    }

    /// The node that owns `doc_id` in the current view.
    pub fn route(&self, doc_id: &str) -> Route {
        route_in(&self.view.borrow(), &self.node_id, doc_id)
    }

    /// Leaves the cluster for a planned stop: deletes this node's registration, so the others take its documents
    /// at once instead of after a session timeout, and publishes a view without this node, in which every
    /// document is elsewhere. Resolves once ZooKeeper has been told (or could not be).
    pub async fn leave(&self) {
        let Some(leave) = self.leave.lock().await.take() else {
            return;
        };
        let (done, left) = tokio::sync::oneshot::channel();
        if leave.send(done).await.is_ok() {
            let _ = left.await;
        }
    }
}

/// Here only when this node is live and owns the document; a document of another member is there even while this
/// node is not live (that member decides for itself, and redirects back if the view was stale).
fn route_in(view: &View, me: &str, doc_id: &str) -> Route {
    match view.ring.owner(doc_id) {
        Some(owner) if owner == me && view.live => Route::Here(Fence {
            node: me.to_string(),
            view: view.version,
            epoch: view.epoch,
        }),
        Some(owner) if owner != me => view
            .member(owner)
            .cloned()
            .map_or(Route::Unavailable, Route::There),
        _ => Route::Unavailable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(live: bool, ids: &[&str]) -> View {
        View {
            live,
            version: 7,
            members: ids
                .iter()
                .map(|id| Member {
                    id: id.to_string(),
                    url: format!("http://{id}.example"),
                    epoch: 1,
                })
                .collect(),
            ring: Ring::new(ids.iter().copied(), 128),
            epoch: 3,
        }
    }

    #[test]
    fn a_document_is_here_with_a_fence_or_there_with_the_owners_url() {
        let view = view(true, &["a", "b", "c"]);
        let mut here = 0;
        for i in 0..300 {
            let doc = format!("doc{i}");
            match route_in(&view, "a", &doc) {
                Route::Here(fence) => {
                    here += 1;
                    assert_eq!((fence.node.as_str(), fence.view, fence.epoch), ("a", 7, 3));
                }
                Route::There(member) => {
                    assert_ne!(member.id, "a");
                    assert_eq!(member.url, format!("http://{}.example", member.id));
                }
                Route::Unavailable => panic!("a live view routes everything"),
            }
        }
        assert!((50..150).contains(&here), "{here} of 300 here");
    }

    #[test]
    fn a_node_that_is_not_live_owns_nothing_but_still_knows_the_others() {
        let view = view(false, &["a", "b"]);
        for i in 0..100 {
            let doc = format!("doc{i}");
            match route_in(&view, "a", &doc) {
                Route::Here(_) => panic!("a node that is not live owns nothing"),
                Route::There(member) => assert_eq!(member.id, "b"),
                Route::Unavailable => assert_eq!(view.ring.owner(&doc), Some("a")),
            }
        }
    }
}
