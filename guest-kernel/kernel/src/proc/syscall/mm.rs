//! mmap (anonymous private memory only; munmap, mprotect, madvise and brk
//! call the address space directly).

use guest_abi::errno::{EINVAL, ENODEV};
use guest_abi::mman::{MAP_ANONYMOUS, PAGE_SIZE};

use super::{Args, SysResult};
use crate::proc::Process;

pub fn mmap(p: &mut Process, a: Args) -> SysResult {
    let [addr, len, prot, flags, fd, offset] = a.0;
    if flags & MAP_ANONYMOUS == 0 {
        // Files are not mappable (yet).
        return Err(if fd as i64 >= 0 { ENODEV } else { EINVAL });
    }
    if !offset.is_multiple_of(PAGE_SIZE) {
        return Err(EINVAL);
    }
    p.mm.mmap(addr, len, prot, flags)
}
