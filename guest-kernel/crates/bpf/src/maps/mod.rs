//! BPF maps: array, hash and per-CPU array, with Linux's type numbers and
//! error codes.
//!
//! Values live in one flat byte store per map, so a value pointer handed to
//! a program stays valid (and in bounds) for the map's lifetime, as with
//! Linux's preallocated maps.

mod array;
mod hash;
mod set;

use alloc::vec::Vec;
use core::fmt;

pub use set::MapSet;

/// `BPF_ANY`: create or update.
pub const BPF_ANY: u64 = 0;
/// `BPF_NOEXIST`: create only.
pub const BPF_NOEXIST: u64 = 1;
/// `BPF_EXIST`: update only.
pub const BPF_EXIST: u64 = 2;

/// Largest store one map may have (bytes): a map is one region of the
/// interpreter's address space.
pub const MAX_MAP_BYTES: u64 = 1 << 24;

/// Map types by their Linux number (`enum bpf_map_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MapType {
    /// `BPF_MAP_TYPE_HASH` (1).
    Hash = 1,
    /// `BPF_MAP_TYPE_ARRAY` (2).
    Array = 2,
    /// `BPF_MAP_TYPE_PERCPU_ARRAY` (6).
    PercpuArray = 6,
}

impl MapType {
    /// The type with Linux number `n`, if we implement it.
    pub fn from_u32(n: u32) -> Option<MapType> {
        match n {
            1 => Some(MapType::Hash),
            2 => Some(MapType::Array),
            6 => Some(MapType::PercpuArray),
            _ => None,
        }
    }

    /// Whether lookups are by 32-bit index.
    pub fn is_array(self) -> bool {
        matches!(self, MapType::Array | MapType::PercpuArray)
    }
}

/// What `BPF_MAP_CREATE` is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MapDef {
    /// Type.
    pub map_type: MapType,
    /// Key size in bytes (4 for arrays).
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Capacity.
    pub max_entries: u32,
}

/// Linux error numbers the map operations return (negated in `r0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Errno {
    /// `ENOENT` (2): no such element.
    NoEnt = 2,
    /// `E2BIG` (7): map full, or index out of range.
    TooBig = 7,
    /// `ENOMEM` (12): store too large.
    NoMem = 12,
    /// `EEXIST` (17): element exists (`BPF_NOEXIST`).
    Exist = 17,
    /// `EINVAL` (22): bad flags, sizes or operation.
    Inval = 22,
}

impl Errno {
    /// The helper return value: `-errno` as a 64-bit register.
    pub fn to_r0(self) -> u64 {
        (-(self as i64)) as u64
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Errno::NoEnt => "ENOENT",
            Errno::TooBig => "E2BIG",
            Errno::NoMem => "ENOMEM",
            Errno::Exist => "EEXIST",
            Errno::Inval => "EINVAL",
        };
        write!(f, "{name}")
    }
}

/// Value slot size: Linux rounds array elements up to 8 bytes.
fn elem_size(value_size: u32) -> usize {
    (value_size as usize).div_ceil(8) * 8
}

/// One map.
#[derive(Clone, Debug)]
pub struct Map {
    def: MapDef,
    ncpus: u32,
    store: Vec<u8>,
    index: Option<hash::HashIndex>,
}

impl Map {
    /// Create a map; `ncpus` sizes per-CPU maps.
    pub fn new(def: MapDef, ncpus: u32) -> Result<Map, Errno> {
        if def.value_size == 0 || def.max_entries == 0 || def.key_size == 0 || ncpus == 0 {
            return Err(Errno::Inval);
        }
        if def.map_type.is_array() && def.key_size != 4 {
            return Err(Errno::Inval);
        }
        let copies = if def.map_type == MapType::PercpuArray {
            u64::from(ncpus)
        } else {
            1
        };
        let bytes = elem_size(def.value_size) as u64 * u64::from(def.max_entries) * copies;
        if bytes > MAX_MAP_BYTES {
            return Err(Errno::NoMem);
        }
        let index = (def.map_type == MapType::Hash).then(|| hash::HashIndex::new(def.max_entries));
        Ok(Map {
            def,
            ncpus,
            store: alloc::vec![0; bytes as usize],
            index,
        })
    }

    /// The definition it was created with.
    pub fn def(&self) -> &MapDef {
        &self.def
    }

    /// The whole value store (what a program's value pointers point into).
    pub fn store(&self) -> &[u8] {
        &self.store
    }

    /// The whole value store, writable.
    pub fn store_mut(&mut self) -> &mut [u8] {
        &mut self.store
    }

    /// Byte offset in the store of the value for `key` as seen from `cpu`.
    pub fn lookup(&self, key: &[u8], cpu: u32) -> Option<usize> {
        match self.def.map_type {
            MapType::Hash => self
                .index
                .as_ref()?
                .find(key)
                .map(|slot| self.slot_offset(slot)),
            MapType::Array => array::index(&self.def, key).map(|i| self.slot_offset(i)),
            MapType::PercpuArray => {
                array::index(&self.def, key).map(|i| self.percpu_offset(i, cpu))
            }
        }
    }

    /// Insert or replace the value for `key` (`flags`: `BPF_ANY`,
    /// `BPF_NOEXIST`, `BPF_EXIST`); per-CPU maps update `cpu`'s copy.
    pub fn update(&mut self, key: &[u8], value: &[u8], flags: u64, cpu: u32) -> Result<(), Errno> {
        if flags > BPF_EXIST || value.len() < self.def.value_size as usize {
            return Err(Errno::Inval);
        }
        let off = match self.def.map_type {
            MapType::Hash => {
                let index = self.index.as_mut().ok_or(Errno::Inval)?;
                let slot = index.insert(key, flags)?;
                self.slot_offset(slot)
            }
            MapType::Array | MapType::PercpuArray => {
                let i = array::check_update(&self.def, key, flags)?;
                if self.def.map_type == MapType::Array {
                    self.slot_offset(i)
                } else {
                    self.percpu_offset(i, cpu)
                }
            }
        };
        let n = self.def.value_size as usize;
        self.store[off..off + n].copy_from_slice(&value[..n]);
        Ok(())
    }

    /// Remove `key` (arrays: `EINVAL`, their elements always exist).
    pub fn delete(&mut self, key: &[u8]) -> Result<(), Errno> {
        match self.index.as_mut() {
            Some(index) => index.remove(key),
            None => Err(Errno::Inval),
        }
    }

    /// `BPF_MAP_GET_NEXT_KEY`: the key after `key` (`None`, a missing or
    /// out-of-range key: the first one); `ENOENT` after the last.
    pub fn next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, Errno> {
        match &self.index {
            Some(index) => index.next_key(key).ok_or(Errno::NoEnt),
            None => {
                let next = match key.and_then(|k| array::index(&self.def, k)) {
                    Some(i) if i + 1 >= self.def.max_entries => return Err(Errno::NoEnt),
                    Some(i) => i + 1,
                    None => 0,
                };
                Ok(next.to_le_bytes().to_vec())
            }
        }
    }

    /// Number of present elements.
    pub fn len(&self) -> usize {
        match &self.index {
            Some(index) => index.len(),
            None => self.def.max_entries as usize,
        }
    }

    /// Whether no element is present.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn slot_offset(&self, slot: u32) -> usize {
        slot as usize * elem_size(self.def.value_size)
    }

    fn percpu_offset(&self, slot: u32, cpu: u32) -> usize {
        let cpu = cpu.min(self.ncpus - 1) as usize;
        let per_cpu = self.def.max_entries as usize * elem_size(self.def.value_size);
        cpu * per_cpu + self.slot_offset(slot)
    }
}
