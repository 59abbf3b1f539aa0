//! Programs from ELF objects of clang's BPF target: one section's
//! instructions, with legacy `SEC("maps")` definitions created as maps and
//! their relocations patched into `LD_IMM64` map-fd loads.

use std::collections::HashMap;

use anyhow::{anyhow, bail, Context, Result};
use guest_bpf::isa::{opcode::pseudo, slots_from_bytes, RawInsn};
use guest_bpf::maps::{MapDef, MapSet, MapType};
use object::{Object, ObjectSection, ObjectSymbol, RelocationTarget};

/// Size of `struct bpf_map_def` (type, key_size, value_size, max_entries,
/// map_flags).
const MAP_DEF_SIZE: u64 = 20;

/// Load section `name` of `data`, creating its maps in `maps`.
pub fn load(data: &[u8], name: &str, maps: &mut MapSet) -> Result<Vec<RawInsn>> {
    let file = object::File::parse(data).context("not an ELF object")?;
    let section = file
        .section_by_name(name)
        .ok_or_else(|| anyhow!("no section {name:?}"))?;
    let bytes = section.data()?;
    let mut slots = slots_from_bytes(bytes)
        .ok_or_else(|| anyhow!("section {name:?} is not a whole number of instructions"))?;
    let mut fds: HashMap<u64, i32> = HashMap::new();
    for (offset, reloc) in section.relocations() {
        let RelocationTarget::Symbol(sym_idx) = reloc.target() else {
            bail!("unsupported relocation at {offset:#x}")
        };
        let sym = file.symbol_by_index(sym_idx)?;
        let sec_idx = sym
            .section_index()
            .ok_or_else(|| anyhow!("relocation against an undefined symbol"))?;
        let map_sec = file.section_by_index(sec_idx)?;
        if map_sec.name()? != "maps" {
            bail!(
                "relocation against {:?} (only legacy SEC(\"maps\") maps are supported)",
                sym.name()?
            );
        }
        let at = sym.address() - map_sec.address();
        let fd = match fds.get(&at) {
            Some(fd) => *fd,
            None => {
                let def = map_def(map_sec.data()?, at)?;
                let fd = maps
                    .create(def, 1)
                    .map_err(|e| anyhow!("map {:?}: {e}", sym.name()))?;
                fds.insert(at, fd);
                fd
            }
        };
        let i = (offset / 8) as usize;
        let insn = slots
            .get_mut(i)
            .ok_or_else(|| anyhow!("relocation beyond the section"))?;
        if insn.code != 0x18 {
            bail!("map relocation at insn {i} is not an LD_IMM64");
        }
        insn.src = pseudo::MAP_FD;
        insn.imm = fd;
    }
    Ok(slots)
}

fn map_def(data: &[u8], at: u64) -> Result<MapDef> {
    let b = data
        .get(at as usize..(at + MAP_DEF_SIZE) as usize)
        .ok_or_else(|| anyhow!("map definition beyond the maps section"))?;
    let word = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let map_type =
        MapType::from_u32(word(0)).ok_or_else(|| anyhow!("unsupported map type {}", word(0)))?;
    Ok(MapDef {
        map_type,
        key_size: word(4),
        value_size: word(8),
        max_entries: word(12),
    })
}
