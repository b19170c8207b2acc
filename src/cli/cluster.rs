//! `quire cluster status|owner`: what ZooKeeper and the ring say about the cluster, from a node's configuration.

use super::{ClusterCommand, open_store};
use crate::config::Config;

pub async fn cluster(config: &Config, command: ClusterCommand) -> anyhow::Result<()> {
    let Some(cluster_config) = &config.cluster else {
        anyhow::bail!("the cluster is off in this configuration (set [cluster] enabled = true)");
    };
    let (version, members) = crate::cluster::read_members(cluster_config).await?;
    match command {
        ClusterCommand::Status => {
            println!(
                "cluster {:?} at {}: {} members, membership version {version}",
                cluster_config.name,
                cluster_config.zookeeper,
                members.len()
            );
            for member in &members {
                println!("{}\tepoch {}\t{}", member.id, member.epoch, member.url);
            }
        }
        ClusterCommand::Owner { doc } => {
            let ring = crate::cluster::Ring::new(
                members.iter().map(|member| member.id.clone()),
                cluster_config.virtual_nodes,
            );
            match ring.owner(&doc) {
                Some(owner) => {
                    let url = members
                        .iter()
                        .find(|member| member.id == owner)
                        .map_or("", |member| member.url.as_str());
                    println!("{doc}\t{owner}\t{url}");
                }
                None => println!("{doc}\tno live members"),
            }
            let store = open_store(config).await?;
            if let Some(claim) = store.document_owner(&doc).await? {
                println!(
                    "last claimed by {} (epoch {}) at membership version {}",
                    claim.node, claim.epoch, claim.view
                );
            }
            store.close().await;
        }
    }
    Ok(())
}
