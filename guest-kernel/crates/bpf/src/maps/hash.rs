//! Key index of hash maps over a fixed set of value slots.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use super::{Errno, BPF_EXIST, BPF_NOEXIST};

/// Keys to slot numbers, with a free list of unused slots.
#[derive(Clone, Debug)]
pub(super) struct HashIndex {
    keys: BTreeMap<Vec<u8>, u32>,
    free: Vec<u32>,
}

impl HashIndex {
    pub(super) fn new(max_entries: u32) -> HashIndex {
        HashIndex {
            keys: BTreeMap::new(),
            free: (0..max_entries).rev().collect(),
        }
    }

    pub(super) fn find(&self, key: &[u8]) -> Option<u32> {
        self.keys.get(key).copied()
    }

    /// The slot to write `key`'s value into.
    pub(super) fn insert(&mut self, key: &[u8], flags: u64) -> Result<u32, Errno> {
        match (self.keys.get(key), flags) {
            (Some(_), BPF_NOEXIST) => Err(Errno::Exist),
            (Some(&slot), _) => Ok(slot),
            (None, BPF_EXIST) => Err(Errno::NoEnt),
            (None, _) => {
                let slot = self.free.pop().ok_or(Errno::TooBig)?;
                self.keys.insert(key.to_vec(), slot);
                Ok(slot)
            }
        }
    }

    pub(super) fn remove(&mut self, key: &[u8]) -> Result<(), Errno> {
        let slot = self.keys.remove(key).ok_or(Errno::NoEnt)?;
        self.free.push(slot);
        Ok(())
    }

    /// The key after `key` in the index's order; the first key when `key`
    /// is absent or not present (as Linux's hash maps restart).
    pub(super) fn next_key(&self, key: Option<&[u8]>) -> Option<Vec<u8>> {
        use core::ops::Bound;
        match key.filter(|k| self.keys.contains_key(*k)) {
            Some(k) => self
                .keys
                .range::<[u8], _>((Bound::Excluded(k), Bound::Unbounded))
                .next()
                .map(|(k, _)| k.clone()),
            None => self.keys.keys().next().cloned(),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.keys.len()
    }
}
