//! Helper calls at run time.

use alloc::vec::Vec;

use super::memory::{map_base, Fault, Memory, MAP_HANDLE_TAG};
use super::Trap;
use crate::helpers::{format_trace, id, HelperEnv};
use crate::maps::Errno;

/// The map index a handle names.
pub(super) fn map_index(handle: u64, mem: &mut Memory<'_>) -> Option<usize> {
    if handle & !0xffff != MAP_HANDLE_TAG {
        return None;
    }
    let i = (handle & 0xffff) as usize;
    (i < mem.maps().len()).then_some(i)
}

fn fault(pc: usize, f: Fault) -> Trap {
    match f {
        Fault::OutOfBounds { addr, len, write } => Trap::OutOfBounds {
            pc,
            addr,
            len,
            write,
        },
        Fault::Uninit { addr } => Trap::UninitStack { pc, addr },
    }
}

fn read(mem: &mut Memory<'_>, pc: usize, addr: u64, len: usize) -> Result<Vec<u8>, Trap> {
    mem.read_bytes(addr, len).map_err(|f| fault(pc, f))
}

/// Call helper `helper` with `args` (r1..r5); returns r0.
pub(super) fn call_helper<E: HelperEnv + ?Sized>(
    helper: i32,
    args: [u64; 5],
    mem: &mut Memory<'_>,
    env: &mut E,
    pc: usize,
) -> Result<u64, Trap> {
    match helper {
        id::MAP_LOOKUP_ELEM | id::MAP_UPDATE_ELEM | id::MAP_DELETE_ELEM => {
            let index = map_index(args[0], mem).ok_or(Trap::BadMap { pc })?;
            let def = *mem.maps().by_index(index).ok_or(Trap::BadMap { pc })?.def();
            let key = read(mem, pc, args[1], def.key_size as usize)?;
            let cpu = env.cpu();
            let map = mem.maps().by_index_mut(index).ok_or(Trap::BadMap { pc })?;
            match helper {
                id::MAP_LOOKUP_ELEM => Ok(map
                    .lookup(&key, cpu)
                    .map_or(0, |off| map_base(index) + off as u64)),
                id::MAP_DELETE_ELEM => Ok(map.delete(&key).map_or_else(Errno::to_r0, |()| 0)),
                _ => {
                    let value = read(mem, pc, args[2], def.value_size as usize)?;
                    let map = mem.maps().by_index_mut(index).ok_or(Trap::BadMap { pc })?;
                    Ok(map
                        .update(&key, &value, args[3], cpu)
                        .map_or_else(Errno::to_r0, |()| 0))
                }
            }
        }
        id::KTIME_GET_NS => Ok(env.ktime_get_ns()),
        id::GET_PRANDOM_U32 => Ok(u64::from(env.prandom_u32())),
        id::TRACE_PRINTK => {
            let fmt = read(mem, pc, args[0], args[1] as usize)?;
            match format_trace(&fmt, [args[2], args[3], args[4]]) {
                Ok(line) => {
                    env.trace(&line);
                    Ok(line.len() as u64)
                }
                Err(_) => Ok(Errno::Inval.to_r0()),
            }
        }
        _ => Err(Trap::UnknownHelper { pc, id: helper }),
    }
}
