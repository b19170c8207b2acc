//! The consistent-hash ring: members in, the owner of a document out. Pure (no I/O, no tokio), so every node
//! that sees the same member set computes the same owner for every document.
//!
//! Each member gets `virtual_nodes` points on a 64-bit circle; a document belongs to the first point at or
//! after its own hash, wrapping around. The hash is the first 8 bytes (big-endian) of SHA-256: fixed by a
//! standard, identical on every platform, build and process (std's `RandomState` is seeded per process, and
//! `Hash` impls are not promised to be stable). The ring itself is a sorted vector searched by bisection:
//! hashring-style crates hash through `std::hash::Hash`, which is exactly what must not decide ownership.

use sha2::{Digest, Sha256};

/// A member's place on the ring is derived from its id alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ring {
    /// (point, index into `members`), sorted by point then member id.
    points: Vec<(u64, usize)>,
    /// Sorted and deduplicated member ids.
    members: Vec<String>,
}

impl Ring {
    /// The ring of `members` (in any order; duplicates count once) with `virtual_nodes` points each.
    pub fn new<I, S>(members: I, virtual_nodes: u32) -> Ring
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut members: Vec<String> = members.into_iter().map(Into::into).collect();
        members.sort();
        members.dedup();
        let mut points = Vec::with_capacity(members.len() * virtual_nodes as usize);
        for (index, member) in members.iter().enumerate() {
            for replica in 0..virtual_nodes.max(1) {
                points.push((point_of(member, replica), index));
            }
        }
        // Ties (astronomically rare) are broken by the member's sorted index, so they too are order-independent.
        points.sort_unstable();
        Ring { points, members }
    }

    /// The member owning `key`, or `None` when the ring is empty.
    pub fn owner(&self, key: &str) -> Option<&str> {
        if self.points.is_empty() {
            return None;
        }
        let hash = hash64(key.as_bytes());
        let at = self.points.partition_point(|(point, _)| *point < hash);
        let (_, index) = self.points[at % self.points.len()];
        Some(&self.members[index])
    }

    /// The member ids, sorted.
    pub fn members(&self) -> &[String] {
        &self.members
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

fn point_of(member: &str, replica: u32) -> u64 {
    // The separator cannot occur in a node id (config validation), so `a#1` and `a#` + `1` never collide.
    hash64(format!("{member}#{replica}").as_bytes())
}

fn hash64(bytes: &[u8]) -> u64 {
    let digest = Sha256::digest(bytes);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;

    fn ids(n: usize, seed: u64) -> Vec<String> {
        (0..n).map(|i| format!("doc-{seed}-{i}")).collect()
    }

    #[test]
    fn an_empty_ring_owns_nothing_and_one_member_owns_everything() {
        assert_eq!(Ring::new(Vec::<String>::new(), 128).owner("x"), None);
        let ring = Ring::new(["solo"], 128);
        assert!(ids(100, 1).iter().all(|id| ring.owner(id) == Some("solo")));
    }

    #[test]
    fn the_hash_is_fixed_across_builds_and_platforms() {
        // Pinned: if this changes, nodes of two versions would disagree on every owner during an upgrade.
        // `printf quire | sha256sum` starts 614957baf804ef8a.
        assert_eq!(hash64(b"quire"), 0x6149_57ba_f804_ef8a);
        let ring = Ring::new(["node-a", "node-b", "node-c"], 128);
        let owners: Vec<&str> = ["d1", "d2", "d3", "d4", "d5", "d6"]
            .iter()
            .map(|id| ring.owner(id).unwrap())
            .collect();
        assert_eq!(owners, RING_GOLDEN);
    }

    const RING_GOLDEN: [&str; 6] = ["node-b", "node-c", "node-a", "node-a", "node-a", "node-c"];

    #[test]
    fn ten_members_with_128_points_are_within_a_quarter_of_a_fair_share() {
        let members: Vec<String> = (0..10).map(|i| format!("node-{i}")).collect();
        let ring = Ring::new(members, 128);
        let mut load: HashMap<&str, usize> = HashMap::new();
        let keys = ids(100_000, 7);
        for id in &keys {
            *load.entry(ring.owner(id).unwrap()).or_default() += 1;
        }
        let busiest = *load.values().max().unwrap() as f64;
        let fair = keys.len() as f64 / 10.0;
        assert!(
            busiest <= 1.25 * fair,
            "busiest member owns {busiest}, fair share {fair}: {load:?}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

        #[test]
        fn the_owner_does_not_depend_on_the_order_members_are_listed(
            members in proptest::collection::btree_set("[a-z0-9-]{1,12}", 1..8),
            seed in any::<u64>(),
        ) {
            let listed: Vec<String> = members.iter().cloned().collect();
            let mut reversed = listed.clone();
            reversed.reverse();
            let (a, b) = (Ring::new(listed, 64), Ring::new(reversed, 64));
            for id in ids(500, seed) {
                prop_assert_eq!(a.owner(&id), b.owner(&id));
            }
        }

        #[test]
        fn one_member_joining_or_leaving_moves_about_one_nth_and_only_to_or_from_it(
            n in 3usize..12,
            seed in any::<u64>(),
        ) {
            let members: Vec<String> = (0..n).map(|i| format!("m{seed}-{i}")).collect();
            let changed = format!("m{seed}-new");
            let before = Ring::new(members.clone(), 128);
            let after = Ring::new(members.iter().cloned().chain([changed.clone()]), 128);
            let keys = ids(100_000, seed);
            let mut moved = 0usize;
            for id in &keys {
                let (old, new) = (before.owner(id).unwrap(), after.owner(id).unwrap());
                if old != new {
                    moved += 1;
                    // Joining: every moved id moved to the new member (read backwards: leaving moves only its ids).
                    prop_assert_eq!(new, changed.as_str());
                }
            }
            let fraction = moved as f64 / keys.len() as f64;
            let n_after = (n + 1) as f64;
            prop_assert!(
                fraction >= 0.5 / n_after && fraction <= 1.5 / n_after,
                "{moved} of {} moved with {n} -> {} members", keys.len(), n + 1
            );
        }
    }
}
