//! Membership through ZooKeeper, the only file that knows it. Each node holds an ephemeral znode
//! `/quire/<name>/nodes/<node_id>` for as long as its session lives, and watches the children of `nodes`.
//!
//! - Losing the connection but not the session (a leader election, a network blip shorter than the session
//!   timeout) changes nothing: the view stays, and documents stay where they are.
//! - Losing the session (expiry: ZooKeeper, or the client library once it has been cut off for the session
//!   timeout, has given up on us, and the other nodes already see us gone) makes this node not live at once: it
//!   owns nothing, its hubs hand off, and only after it has registered again, with a new epoch, does it own
//!   documents again.

use std::{sync::Arc, time::Duration};

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot, watch};
use zookeeper_client as zk;

use super::{Cluster, Member, Ring, View};
use crate::config::ClusterConfig;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot reach ZooKeeper at {0} within {1:?}")]
    Unreachable(String, Duration),
    #[error("ZooKeeper: {0}")]
    ZooKeeper(#[from] zk::Error),
}

/// What a member's znode holds (for people reading ZooKeeper; the epoch others use is the znode's czxid).
#[derive(Debug, Serialize, Deserialize)]
struct Registration {
    id: String,
    url: String,
    #[serde(default)]
    epoch: i64,
}

/// Connects, registers this node and publishes its first view; membership is then kept up by a background task.
pub async fn join(config: &ClusterConfig) -> Result<Cluster, ClusterError> {
    let membership = Membership {
        config: config.clone(),
        nodes: nodes_path(config),
    };
    let (publish, view) = watch::channel(Arc::new(View::offline(config.virtual_nodes)));
    let client = connect(config, startup_deadline(config)).await?;
    let epoch = membership.register(&client).await?;
    let watcher = membership.refresh(&client, epoch, &publish).await?;
    tracing::info!(node = %config.node_id, epoch, "joined the cluster");
    let (leave, leaving) = mpsc::channel(1);
    tokio::spawn(membership.maintain(client, epoch, watcher, publish, leaving));
    Ok(Cluster {
        node_id: Arc::from(config.node_id.as_str()),
        view,
        metrics: super::ClusterMetrics::default(),
        leave: Arc::new(tokio::sync::Mutex::new(Some(leave))),
    })
}

/// The members as ZooKeeper has them now, and the membership version (for `quire cluster status`).
pub async fn read_members(config: &ClusterConfig) -> Result<(i64, Vec<Member>), ClusterError> {
    let client = connect(config, startup_deadline(config)).await?;
    let nodes = nodes_path(config);
    match client.get_children(&nodes).await {
        Ok((children, stat)) => Ok((
            i64::from(stat.cversion),
            read_each(&client, &nodes, children).await?,
        )),
        Err(zk::Error::NoNode) => Ok((0, Vec::new())),
        Err(err) => Err(err.into()),
    }
}

fn nodes_path(config: &ClusterConfig) -> String {
    format!("/quire/{}/nodes", config.name)
}

/// Start-up gives ZooKeeper a few session timeouts to answer, then reports it (exit status 2).
fn startup_deadline(config: &ClusterConfig) -> Duration {
    (config.session_timeout * 3).max(Duration::from_secs(10))
}

async fn connect(config: &ClusterConfig, deadline: Duration) -> Result<zk::Client, ClusterError> {
    let connecting = zk::Client::connector()
        .with_session_timeout(config.session_timeout)
        .connect(&config.zookeeper);
    match tokio::time::timeout(deadline, connecting).await {
        Ok(client) => Ok(client?),
        Err(_) => Err(ClusterError::Unreachable(
            config.zookeeper.clone(),
            deadline,
        )),
    }
}

async fn read_each(
    client: &zk::Client,
    nodes: &str,
    children: Vec<String>,
) -> Result<Vec<Member>, ClusterError> {
    let mut members = Vec::with_capacity(children.len());
    for child in children {
        match client.get_data(&format!("{nodes}/{child}")).await {
            Ok((data, stat)) => {
                let url = serde_json::from_slice::<Registration>(&data)
                    .map(|registration| registration.url)
                    .unwrap_or_default();
                members.push(Member {
                    id: child,
                    url,
                    epoch: stat.czxid,
                });
            }
            // It left between the listing and now; the next change event brings a fresh listing.
            Err(zk::Error::NoNode) => {}
            Err(err) => return Err(err.into()),
        }
    }
    members.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(members)
}

struct Membership {
    config: ClusterConfig,
    nodes: String,
}

impl Membership {
    fn my_path(&self) -> String {
        format!("{}/{}", self.nodes, self.config.node_id)
    }

    /// Creates this node's ephemeral znode and returns its epoch. A znode left by this node's previous process
    /// (killed less than a session timeout ago) is waited out: two registrations under one id must never coexist.
    async fn register(&self, client: &zk::Client) -> Result<i64, ClusterError> {
        let persistent = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
        client.mkdir(&self.nodes, &persistent).await?;
        let ephemeral = zk::CreateMode::Ephemeral.with_acls(zk::Acls::anyone_all());
        let mut registration = Registration {
            id: self.config.node_id.clone(),
            url: self.config.advertise_url.clone(),
            epoch: 0,
        };
        let data = serde_json::to_vec(&registration).unwrap_or_default();
        let mut waited = Duration::ZERO;
        let stat = loop {
            match client.create(&self.my_path(), &data, &ephemeral).await {
                Ok((stat, _)) => break stat,
                Err(zk::Error::NodeExists) => {
                    if let Ok((_, stat)) = client.get_data(&self.my_path()).await
                        && stat.ephemeral_owner == client.session_id().0
                    {
                        break stat;
                    }
                    if waited.as_millis().is_multiple_of(10_000) {
                        tracing::warn!(
                            node = %self.config.node_id,
                            "a registration under this node id still exists; waiting for it to expire \
                             (if it lasts, another live node has the same cluster.node_id)"
                        );
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    waited += Duration::from_millis(250);
                }
                Err(err) => return Err(err.into()),
            }
        };
        registration.epoch = stat.czxid;
        // For people reading ZooKeeper; nobody depends on it (a child's data change wakes no membership watch).
        if let Ok(data) = serde_json::to_vec(&registration) {
            let _ = client.set_data(&self.my_path(), &data, None).await;
        }
        Ok(stat.czxid)
    }

    /// Lists the members, publishes the view, and returns the watch for the next change.
    async fn refresh(
        &self,
        client: &zk::Client,
        epoch: i64,
        publish: &watch::Sender<Arc<View>>,
    ) -> Result<zk::OneshotWatcher, ClusterError> {
        let (children, stat, watcher) = client.get_and_watch_children(&self.nodes).await?;
        let members = read_each(client, &self.nodes, children).await?;
        let live = members
            .iter()
            .any(|member| member.id == self.config.node_id && member.epoch == epoch);
        let view = View {
            live,
            version: i64::from(stat.cversion),
            ring: Ring::new(
                members.iter().map(|member| member.id.clone()),
                self.config.virtual_nodes,
            ),
            members,
            epoch,
        };
        tracing::info!(
            version = view.version,
            live,
            members = ?view.members.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
            "cluster membership"
        );
        publish.send_replace(Arc::new(view));
        Ok(watcher)
    }

    /// Follows membership for the life of the process: refreshes the view on every change, and after losing the
    /// session marks this node not live at once, then connects and registers again.
    async fn maintain(
        self,
        mut client: zk::Client,
        mut epoch: i64,
        mut watcher: zk::OneshotWatcher,
        publish: watch::Sender<Arc<View>>,
        mut leaving: mpsc::Receiver<oneshot::Sender<()>>,
    ) {
        loop {
            let lost = tokio::select! {
                lost = self.follow(&client, epoch, watcher, &publish) => lost,
                Some(done) = leaving.recv() => {
                    self.leave(client, &publish).await;
                    let _ = done.send(());
                    return;
                }
            };
            tracing::error!(node = %self.config.node_id, %lost, "lost the ZooKeeper session; documents move to other nodes");
            publish.send_modify(|view| {
                let mut offline = (**view).clone();
                offline.live = false;
                *view = Arc::new(offline);
            });
            (client, epoch, watcher) = self.rejoin(&publish).await;
        }
    }

    /// Deletes the registration and closes the session, then publishes a view of the others only.
    async fn leave(&self, client: zk::Client, publish: &watch::Sender<Arc<View>>) {
        if let Err(err) = client.delete(&self.my_path(), None).await {
            tracing::warn!(%err, "cannot delete this node's registration; it expires with the session");
        }
        drop(client);
        publish.send_modify(|view| {
            let members: Vec<Member> = view
                .members
                .iter()
                .filter(|member| member.id != self.config.node_id)
                .cloned()
                .collect();
            *view = Arc::new(View {
                live: false,
                version: view.version,
                ring: Ring::new(
                    members.iter().map(|member| member.id.clone()),
                    self.config.virtual_nodes,
                ),
                members,
                epoch: view.epoch,
            });
        });
        tracing::info!(node = %self.config.node_id, "left the cluster");
    }

    /// Returns why the session ended.
    async fn follow(
        &self,
        client: &zk::Client,
        epoch: i64,
        watcher: zk::OneshotWatcher,
        publish: &watch::Sender<Arc<View>>,
    ) -> String {
        let mut states = client.state_watcher();
        let mut change = Box::pin(watcher.changed());
        loop {
            tokio::select! {
                state = states.changed() => {
                    if state.is_terminated() {
                        return format!("{state}");
                    }
                    // Disconnected / SyncConnected: the session lives on; nothing moves. A lost connection is
                    // worth a warning (membership changes go unseen meanwhile); getting it back is not.
                    if state == zk::SessionState::SyncConnected {
                        tracing::info!(%state, "ZooKeeper connection state");
                    } else {
                        tracing::warn!(%state, "ZooKeeper connection state");
                    }
                }
                event = &mut change => {
                    if event.event_type == zk::EventType::Session && event.session_state.is_terminated() {
                        return format!("{}", event.session_state);
                    }
                    match self.refresh_until_done(client, epoch, publish).await {
                        Ok(next) => change = Box::pin(next.changed()),
                        Err(why) => return why,
                    }
                    if !publish.borrow().live {
                        // Our znode is gone though the session lives (someone deleted it): a new registration.
                        return "this node's registration disappeared".into();
                    }
                }
            }
        }
    }

    async fn refresh_until_done(
        &self,
        client: &zk::Client,
        epoch: i64,
        publish: &watch::Sender<Arc<View>>,
    ) -> Result<zk::OneshotWatcher, String> {
        loop {
            match self.refresh(client, epoch, publish).await {
                Ok(watcher) => return Ok(watcher),
                Err(ClusterError::ZooKeeper(
                    err @ (zk::Error::SessionExpired | zk::Error::ClientClosed),
                )) => return Err(err.to_string()),
                Err(err) => {
                    tracing::warn!(%err, "cannot read cluster membership; retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    }

    /// A new session and a new registration, retried until they succeed.
    async fn rejoin(
        &self,
        publish: &watch::Sender<Arc<View>>,
    ) -> (zk::Client, i64, zk::OneshotWatcher) {
        let mut delay = Duration::from_millis(100);
        loop {
            match self.try_rejoin(publish).await {
                Ok(joined) => {
                    tracing::info!(node = %self.config.node_id, epoch = joined.1, "rejoined the cluster");
                    return joined;
                }
                Err(err) => {
                    tracing::warn!(%err, "cannot rejoin the cluster yet");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    async fn try_rejoin(
        &self,
        publish: &watch::Sender<Arc<View>>,
    ) -> Result<(zk::Client, i64, zk::OneshotWatcher), ClusterError> {
        let client = connect(&self.config, startup_deadline(&self.config)).await?;
        let epoch = self.register(&client).await?;
        let watcher = self.refresh(&client, epoch, publish).await?;
        Ok((client, epoch, watcher))
    }
}
