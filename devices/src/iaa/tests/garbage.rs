//! A guest writing nonsense anywhere must never panic the VMM.

use super::*;

#[test]
fn test_garbage_to_every_bar0_offset_never_panics() {
    let mut d = Driver::ready();
    let mut rng = Rng(0xbad);
    for offset in 0..BAR0_SIZE + 16 {
        let len = [1usize, 2, 4, 8][rng.below(4) as usize];
        let value = rng.next().to_le_bytes();
        d.iaa.write_bar(0, offset, &value[..len]);
        let mut back = [0u8; 8];
        d.iaa.read_bar(0, offset, &mut back[..len]);
    }
    // Odd widths and the ends of the address space.
    for offset in [0, 0x9f, 0xa3, 0xfff, u64::MAX - 3, u64::MAX] {
        d.iaa.write_bar(0, offset, &[0xff; 13]);
        let mut back = [0u8; 13];
        d.iaa.read_bar(0, offset, &mut back);
    }
}

#[test]
fn test_random_descriptors_to_every_portal_slot_never_panic() {
    let mut d = Driver::new();
    d.probe();
    // Enable every WQ with random-ish sizes so descriptors get run.
    for wq in 0..8u64 {
        d.write32(WQCFG_TABLE + 32 * wq, 8);
        d.write32(WQCFG_TABLE + 32 * wq + 8, 1);
        d.write32(WQCFG_TABLE + 32 * wq + 12, 21);
    }
    d.write64(GRPCFG_TABLE, 0xff);
    d.write64(GRPCFG_TABLE + GRPCFG_ENGINES, 1);
    for wq in 0..8 {
        assert_eq!(d.command(cmd::ENABLE_WQ, wq), 0);
    }
    d.put(AECS_ADDR, &super::super::codec::linux_fixed_aecs());
    let mut rng = Rng(0x5eed_5eed);
    for slot in 0..(0x2_0000 / 64) {
        let mut desc = [0u8; 64];
        for chunk in desc.chunks_mut(8) {
            chunk.copy_from_slice(&rng.next().to_le_bytes());
        }
        // Keep half the addresses and sizes inside guest memory so the
        // engines do real work on garbage.
        if slot % 2 == 0 {
            desc[7] = [0x00, 0x02, 0x42, 0x43][rng.below(4) as usize];
            for at in [8usize, 16, 24, 40] {
                let addr = rng.below(MEM_SIZE as u64);
                desc[at..at + 8].copy_from_slice(&addr.to_le_bytes());
            }
            desc[32..36].copy_from_slice(&(rng.below(9000) as u32).to_le_bytes());
            desc[48..52].copy_from_slice(&(rng.below(9000) as u32).to_le_bytes());
        }
        d.iaa.write_bar(2, slot * 64, &desc);
    }
    // Partial and misaligned portal writes are dropped.
    d.iaa.write_bar(2, 8, &[0xff; 64]);
    d.iaa.write_bar(2, 0x1000, &[0xff; 8]);
    d.iaa.write_bar(2, u64::MAX, &[0xff; 64]);
    let mut back = [0u8; 64];
    d.iaa.read_bar(2, 0x1000, &mut back);
    assert_eq!(back, [0; 64]);
}

#[test]
fn test_garbage_config_space_writes_never_panic() {
    let mut d = Driver::new();
    let mut rng = Rng(0xc0f);
    for offset in 0..4096 + 8 {
        let len = [1usize, 2, 4][rng.below(3) as usize];
        let value = rng.next().to_le_bytes();
        d.iaa.write_config(offset, &value[..len]);
        let mut back = [0u8; 4];
        d.iaa.read_config(offset, &mut back[..len]);
    }
    // Whatever happened, the device still answers with its identity.
    assert_eq!(d.cfg_read32(0), 0x0cfe_8086);
}

#[test]
fn test_garbage_commands_never_panic() {
    let mut d = Driver::ready();
    let mut rng = Rng(0xc3d);
    for _ in 0..2000 {
        let value = rng.next() as u32;
        d.write32(CMD, value);
    }
    for code in 0..32 {
        for operand in [0, 1, 0xffff, 0xf_ffff, 0x1_0001] {
            d.write32(CMD, (code << CMD_CODE_SHIFT) | operand);
        }
    }
}
