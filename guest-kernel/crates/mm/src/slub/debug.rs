//! `slub_debug` red zones and poisoning: a free object is filled with
//! [`POISON_FREE`] (last byte [`POISON_END`]) and fenced by
//! [`RED_INACTIVE`]; an allocated one is fenced by [`RED_ACTIVE`]. A free
//! finds an overflow (fence bytes changed) or a double free (the fence
//! says the object is already free); an allocation finds a write to a freed
//! object (poison changed).

use super::layout::Layout;
use super::SlabError;

/// Poison byte of a free object (`POISON_FREE`).
pub const POISON_FREE: u8 = 0x6b;
/// Last byte of a poisoned object (`POISON_END`).
pub const POISON_END: u8 = 0xa5;
/// Red zone of a free object (`SLUB_RED_INACTIVE`).
pub const RED_INACTIVE: u8 = 0xbb;
/// Red zone of an allocated object (`SLUB_RED_ACTIVE`).
pub const RED_ACTIVE: u8 = 0xcc;

/// The red-zone byte ranges around `obj` (left, right), as addresses.
fn zones(obj: usize, layout: &Layout) -> [(usize, usize); 2] {
    [
        (obj - layout.red_left, obj),
        (obj + layout.object_size, obj + layout.red_end),
    ]
}

fn bytes<'a>(start: usize, end: usize) -> &'a mut [u8] {
    // SAFETY: callers pass ranges inside one object slot of a slab the
    // cache owns, which no one else touches while the cache's lock is held.
    unsafe { core::slice::from_raw_parts_mut(start as *mut u8, end - start) }
}

/// The first byte of `obj`'s red zones that is not `value`, as (address, byte).
fn red_mismatch(obj: usize, layout: &Layout, value: u8) -> Option<(usize, u8)> {
    zones(obj, layout).into_iter().find_map(|(s, e)| {
        let zone = bytes(s, e);
        let i = zone.iter().position(|&b| b != value)?;
        Some((s + i, zone[i]))
    })
}

fn fill_red(obj: usize, layout: &Layout, value: u8) {
    for (s, e) in zones(obj, layout) {
        bytes(s, e).fill(value);
    }
}

/// Marks a free object: poison (if `poison`) and inactive red zones.
pub(super) fn mark_free(obj: usize, layout: &Layout, poison: bool) {
    if poison {
        let body = bytes(obj, obj + layout.object_size);
        body.fill(POISON_FREE);
        if let Some(last) = body.last_mut() {
            *last = POISON_END;
        }
    }
    fill_red(obj, layout, RED_INACTIVE);
}

/// Checks a free object about to be handed out, then marks it allocated.
pub(super) fn check_alloc(obj: usize, layout: &Layout, poison: bool) -> Result<(), SlabError> {
    if let Some((at, found)) = red_mismatch(obj, layout, RED_INACTIVE) {
        return Err(SlabError::RedzoneOverwritten { obj, at, found });
    }
    if poison {
        let body = bytes(obj, obj + layout.object_size);
        let last = body.len() - 1;
        let bad = body
            .iter()
            .enumerate()
            .find(|&(i, &b)| b != if i == last { POISON_END } else { POISON_FREE });
        if let Some((i, &found)) = bad {
            return Err(SlabError::PoisonOverwritten {
                obj,
                at: obj + i,
                found,
            });
        }
    }
    fill_red(obj, layout, RED_ACTIVE);
    Ok(())
}

/// Checks an object being freed: its red zones must be active and intact.
pub(super) fn check_free(obj: usize, layout: &Layout) -> Result<(), SlabError> {
    if red_mismatch(obj, layout, RED_INACTIVE).is_none() {
        return Err(SlabError::DoubleFree { obj });
    }
    if let Some((at, found)) = red_mismatch(obj, layout, RED_ACTIVE) {
        return Err(SlabError::RedzoneOverwritten { obj, at, found });
    }
    Ok(())
}
