//! Index arithmetic of array maps.

use super::{Errno, MapDef, BPF_NOEXIST};

/// The element index `key` names, if in range.
pub(super) fn index(def: &MapDef, key: &[u8]) -> Option<u32> {
    let bytes: [u8; 4] = key.get(..4)?.try_into().ok()?;
    let i = u32::from_le_bytes(bytes);
    (i < def.max_entries).then_some(i)
}

/// The index an update writes: `E2BIG` beyond the end, `EEXIST` for
/// `BPF_NOEXIST` (array elements always exist).
pub(super) fn check_update(def: &MapDef, key: &[u8], flags: u64) -> Result<u32, Errno> {
    let i = index(def, key).ok_or(Errno::TooBig)?;
    if flags == BPF_NOEXIST {
        return Err(Errno::Exist);
    }
    Ok(i)
}
