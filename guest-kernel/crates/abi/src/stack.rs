//! A new process's stack as Linux lays it out (`fs/exec.c` copy_strings,
//! `fs/binfmt_elf.c` create_elf_tables), from the top down:
//!
//! ```text
//! top    8 zero bytes
//!        execfn string ("/init")
//!        environment strings, argument strings (argv[0] lowest)
//!        (aligned down to 16) platform string "x86_64"
//!        16 random bytes (AT_RANDOM)
//!        (aligned so that sp is 16-byte aligned)
//!        auxv pairs ending in AT_NULL
//!        envp pointers, NULL
//!        argv pointers, NULL
//! sp ->  argc
//! ```
//!
//! [`build`] returns the bytes from `sp` to the top and `sp` itself; the
//! kernel copies them into the new address space.

use alloc::vec::Vec;

use crate::auxv::{AT_EXECFN, AT_NULL, AT_PLATFORM, AT_RANDOM};

/// The platform string x86_64 Linux reports (`ELF_PLATFORM`).
pub const PLATFORM: &[u8] = b"x86_64";

/// What goes on the stack.
#[derive(Debug, Clone)]
pub struct StackSpec<'a> {
    /// Argument strings (without NULs).
    pub argv: &'a [&'a [u8]],
    /// Environment strings (`KEY=value`).
    pub envp: &'a [&'a [u8]],
    /// The path that was executed (`AT_EXECFN`).
    pub execfn: &'a [u8],
    /// Bytes `AT_RANDOM` points at.
    pub random: [u8; 16],
    /// Auxiliary vector in order, without `AT_NULL`. The values of
    /// `AT_RANDOM`, `AT_EXECFN` and `AT_PLATFORM` are filled in here.
    pub auxv: &'a [(u64, u64)],
}

/// The built stack: `bytes` belong at `[sp, top)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    /// Initial stack pointer (points at argc, 16-byte aligned).
    pub sp: u64,
    /// The contents of `[sp, top)`.
    pub bytes: Vec<u8>,
}

/// Lays out `spec` below `top` (16-byte aligned). `None` if it does not fit
/// in `limit` bytes.
pub fn build(spec: &StackSpec<'_>, top: u64, limit: u64) -> Option<Stack> {
    // Strings, ascending: argv, envp, execfn, 8 zero bytes at the top.
    let strings: usize = spec
        .argv
        .iter()
        .chain(spec.envp)
        .chain([&spec.execfn])
        .map(|s| s.len() + 1)
        .sum();
    let strings_start = top - 8 - strings as u64;
    let mut p = strings_start & !15;
    let platform = p - (PLATFORM.len() as u64 + 1);
    p = platform;
    let random = p - 16;
    p = random;
    let words = 1 + spec.argv.len() + 1 + spec.envp.len() + 1 + 2 * (spec.auxv.len() + 1);
    let sp = (p - 8 * words as u64) & !15;
    if top - sp > limit {
        return None;
    }
    let mut bytes = alloc::vec![0u8; (top - sp) as usize];
    let at = |addr: u64| (addr - sp) as usize;
    let put = |bytes: &mut Vec<u8>, addr: u64, data: &[u8]| {
        bytes[at(addr)..at(addr) + data.len()].copy_from_slice(data);
    };
    // Strings and their addresses.
    let mut cursor = strings_start;
    let mut pointers = Vec::with_capacity(spec.argv.len() + spec.envp.len());
    for s in spec.argv.iter().chain(spec.envp) {
        pointers.push(cursor);
        put(&mut bytes, cursor, s);
        cursor += s.len() as u64 + 1;
    }
    let execfn = cursor;
    put(&mut bytes, execfn, spec.execfn);
    put(&mut bytes, platform, PLATFORM);
    put(&mut bytes, random, &spec.random);
    // argc, argv, envp, auxv.
    let mut word = sp;
    let mut push = |bytes: &mut Vec<u8>, value: u64| {
        put(bytes, word, &value.to_le_bytes());
        word += 8;
    };
    push(&mut bytes, spec.argv.len() as u64);
    let (argv, envp) = pointers.split_at(spec.argv.len());
    for &ptr in argv {
        push(&mut bytes, ptr);
    }
    push(&mut bytes, 0);
    for &ptr in envp {
        push(&mut bytes, ptr);
    }
    push(&mut bytes, 0);
    for &(key, value) in spec.auxv {
        let value = match key {
            AT_RANDOM => random,
            AT_EXECFN => execfn,
            AT_PLATFORM => platform,
            _ => value,
        };
        push(&mut bytes, key);
        push(&mut bytes, value);
    }
    push(&mut bytes, AT_NULL);
    push(&mut bytes, 0);
    Some(Stack { sp, bytes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auxv::{AT_PAGESZ, AT_UID};

    fn word(stack: &Stack, addr: u64) -> u64 {
        let i = (addr - stack.sp) as usize;
        u64::from_le_bytes(stack.bytes[i..i + 8].try_into().unwrap())
    }

    fn string(stack: &Stack, addr: u64) -> &[u8] {
        let i = (addr - stack.sp) as usize;
        let end = stack.bytes[i..].iter().position(|&b| b == 0).unwrap();
        &stack.bytes[i..i + end]
    }

    #[test]
    fn test_build_lays_out_argc_argv_envp_auxv_like_linux() {
        let top = 0x7fff_ffff_f000;
        let spec = StackSpec {
            argv: &[b"/init", b"-v"],
            envp: &[b"HOME=/"],
            execfn: b"/init",
            random: [7; 16],
            auxv: &[
                (AT_PAGESZ, 4096),
                (AT_RANDOM, 0),
                (AT_UID, 0),
                (AT_EXECFN, 0),
            ],
        };
        let stack = build(&spec, top, 1 << 20).unwrap();
        assert_eq!(stack.sp % 16, 0);
        assert_eq!(stack.sp + stack.bytes.len() as u64, top);
        assert_eq!(word(&stack, stack.sp), 2);
        assert_eq!(string(&stack, word(&stack, stack.sp + 8)), b"/init");
        assert_eq!(string(&stack, word(&stack, stack.sp + 16)), b"-v");
        assert_eq!(word(&stack, stack.sp + 24), 0);
        assert_eq!(string(&stack, word(&stack, stack.sp + 32)), b"HOME=/");
        assert_eq!(word(&stack, stack.sp + 40), 0);
        let auxv = stack.sp + 48;
        assert_eq!(
            (word(&stack, auxv), word(&stack, auxv + 8)),
            (AT_PAGESZ, 4096)
        );
        assert_eq!(word(&stack, auxv + 16), AT_RANDOM);
        let random = word(&stack, auxv + 24);
        let i = (random - stack.sp) as usize;
        assert_eq!(&stack.bytes[i..i + 16], &[7; 16]);
        assert_eq!(string(&stack, word(&stack, auxv + 56)), b"/init");
        assert_eq!(word(&stack, auxv + 64), AT_NULL);
        // The top 8 bytes are zero; the execfn string ends right below.
        assert_eq!(word(&stack, top - 8), 0);
        assert_eq!(string(&stack, top - 8 - 6), b"/init");
    }

    #[test]
    fn test_build_refuses_what_exceeds_the_limit() {
        let big = [b'x'; 5000];
        let spec = StackSpec {
            argv: &[&big],
            envp: &[],
            execfn: b"/x",
            random: [0; 16],
            auxv: &[],
        };
        assert!(build(&spec, 0x10000, 4096).is_none());
        assert!(build(&spec, 0x10000, 8192).is_some());
    }
}
