//! The maps a program can name, by file descriptor.

use alloc::vec::Vec;

use super::{Errno, Map, MapDef};

/// First descriptor handed out (0-2 are stdio in Linux processes).
const FIRST_FD: i32 = 3;

/// A table of maps keyed by small integer descriptors.
#[derive(Clone, Debug, Default)]
pub struct MapSet {
    maps: Vec<(i32, Map)>,
}

impl MapSet {
    /// An empty table.
    pub fn new() -> MapSet {
        MapSet::default()
    }

    /// Create a map and return its descriptor.
    pub fn create(&mut self, def: MapDef, ncpus: u32) -> Result<i32, Errno> {
        let map = Map::new(def, ncpus)?;
        let fd = self.maps.last().map_or(FIRST_FD, |(fd, _)| fd + 1);
        self.maps.push((fd, map));
        Ok(fd)
    }

    /// Position of the map with descriptor `fd`.
    pub fn index_of(&self, fd: i32) -> Option<usize> {
        self.maps.iter().position(|(f, _)| *f == fd)
    }

    /// The map with descriptor `fd`.
    pub fn get(&self, fd: i32) -> Option<&Map> {
        self.maps.iter().find(|(f, _)| *f == fd).map(|(_, m)| m)
    }

    /// The map with descriptor `fd`, writable.
    pub fn get_mut(&mut self, fd: i32) -> Option<&mut Map> {
        self.maps.iter_mut().find(|(f, _)| *f == fd).map(|(_, m)| m)
    }

    /// The map at position `i`.
    pub fn by_index(&self, i: usize) -> Option<&Map> {
        self.maps.get(i).map(|(_, m)| m)
    }

    /// The map at position `i`, writable.
    pub fn by_index_mut(&mut self, i: usize) -> Option<&mut Map> {
        self.maps.get_mut(i).map(|(_, m)| m)
    }

    /// Number of maps.
    pub fn len(&self) -> usize {
        self.maps.len()
    }

    /// Whether there are no maps.
    pub fn is_empty(&self) -> bool {
        self.maps.is_empty()
    }
}
