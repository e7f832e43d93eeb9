//! The run plan: which flow runs on which device, how many times, in which shard.
//!
//! Pure and deterministic: the same flows, devices, iterations, tags and seed give the same
//! cases with the same seeds, whatever `--parallel` is, and `--shard I/N` splits them into N
//! disjoint parts whose union is the unsharded plan.

use std::path::PathBuf;
use std::str::FromStr;

/// One flow × device × iteration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseSpec {
    pub flow_file: PathBuf,
    pub flow: String,
    pub device: String,
    /// 1-based.
    pub iteration: u32,
    /// The device seed of this case (derived from the run seed; independent of sharding).
    pub seed: u64,
}

/// `--shard I/N`: the I-th of N parts (1-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub total: u32,
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("'{s}' is not I/N (e.g. 1/4)"))?;
        let index: u32 = i.trim().parse().map_err(|_| format!("shard '{i}' is not a number"))?;
        let total: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("shard total '{n}' is not a number"))?;
        if total == 0 || index == 0 || index > total {
            return Err(format!(
                "shard {index} must be a number between 1 and total shards {total}, inclusive"
            ));
        }
        Ok(Shard { index, total })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.total)
    }
}

/// A flow to plan: file, display name, tags.
#[derive(Clone, Debug)]
pub struct PlannedFlow {
    pub file: PathBuf,
    pub name: String,
    pub tags: Vec<String>,
}

/// FNV-1a over the parts: a stable hash (no randomised hasher).
pub fn stable_hash(parts: &[&str], seed: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for p in parts {
        for b in p.bytes().chain([0xff]) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    crate::rng::Rng::new(h).next_u64()
}

pub fn tag_selected(tags: &[String], include: &[String], exclude: &[String]) -> bool {
    (include.is_empty() || include.iter().any(|t| tags.contains(t))) && !exclude.iter().any(|t| tags.contains(t))
}

/// Every case of the run, in a stable order: flow, then device, then iteration.
pub fn plan(
    flows: &[PlannedFlow],
    devices: &[String],
    iterations: u32,
    include_tags: &[String],
    exclude_tags: &[String],
    shard: Option<Shard>,
    seed: u64,
) -> Vec<CaseSpec> {
    let mut cases = vec![];
    for f in flows
        .iter()
        .filter(|f| tag_selected(&f.tags, include_tags, exclude_tags))
    {
        for d in devices {
            for it in 1..=iterations {
                cases.push(CaseSpec {
                    flow_file: f.file.clone(),
                    flow: f.name.clone(),
                    device: d.clone(),
                    iteration: it,
                    seed: stable_hash(&[&f.name, d, &it.to_string()], seed),
                });
            }
        }
    }
    match shard {
        None => cases,
        Some(s) => cases
            .into_iter()
            .enumerate()
            .filter(|(i, _)| (*i as u32) % s.total == s.index - 1)
            .map(|(_, c)| c)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flows() -> Vec<PlannedFlow> {
        vec![
            PlannedFlow {
                file: "a.yaml".into(),
                name: "a".into(),
                tags: vec!["pr".into()],
            },
            PlannedFlow {
                file: "b.yaml".into(),
                name: "b".into(),
                tags: vec!["nightly".into()],
            },
        ]
    }

    #[test]
    fn shards_partition_the_plan() {
        let devices = vec!["ios".to_string(), "android".to_string()];
        let all = plan(&flows(), &devices, 5, &[], &[], None, 42);
        assert_eq!(all.len(), 20);
        let mut union = vec![];
        for i in 1..=4 {
            let part = plan(&flows(), &devices, 5, &[], &[], Some(Shard { index: i, total: 4 }), 42);
            assert!(!part.is_empty());
            union.extend(part);
        }
        union.sort_by_key(|c| (c.flow.clone(), c.device.clone(), c.iteration));
        let mut sorted = all.clone();
        sorted.sort_by_key(|c| (c.flow.clone(), c.device.clone(), c.iteration));
        assert_eq!(union, sorted);
    }

    #[test]
    fn seeds_are_stable_and_distinct() {
        let d = vec!["ios".to_string()];
        let a = plan(&flows(), &d, 3, &[], &[], None, 1);
        let b = plan(&flows(), &d, 3, &[], &[], None, 1);
        assert_eq!(a, b);
        let seeds: std::collections::BTreeSet<u64> = a.iter().map(|c| c.seed).collect();
        assert_eq!(seeds.len(), a.len());
        assert_ne!(plan(&flows(), &d, 3, &[], &[], None, 2)[0].seed, a[0].seed);
    }

    #[test]
    fn tags_and_shard_syntax() {
        let d = vec!["ios".to_string()];
        assert_eq!(plan(&flows(), &d, 1, &["pr".into()], &[], None, 1).len(), 1);
        assert_eq!(plan(&flows(), &d, 1, &[], &["pr".into()], None, 1)[0].flow, "b");
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, total: 4 }));
        assert!(
            "0/4"
                .parse::<Shard>()
                .unwrap_err()
                .contains("between 1 and total shards 4")
        );
        assert!("5/4".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
    }
}
