//! Bad guest input gets an error status or a device error interrupt,
//! never a panic.

use super::build::*;
use super::harness::*;
use crate::qat::regs::*;
use vm_memory::Bytes;

fn setup() -> (Driver, RingPair, u64) {
    let mut d = Driver::new();
    d.probe();
    let ring = d.ring_pair(4, 7, 6);
    let cd = d.put(&cipher_block(0x13, &[1; 16]));
    (d, ring, cd)
}

fn cbc(cd: u64, src: u64, len: u32) -> [u8; 128] {
    let mut r = la_request(0, LA_FLAGS, cd, 10, src, src, 8);
    cipher_params(&mut r, 0, len, &[0; 16]);
    cipher_ctrl(&mut r, 16, 0, 4);
    r
}

#[test]
fn test_descriptor_outside_guest_ram_is_an_endpoint_error() {
    let (mut d, mut ring, cd) = setup();
    let list = buffer_list(&mut d, &[(MEM_SIZE - 8, 16)]);
    let resp = d.roundtrip(&mut ring, &cbc(cd, list, 16));
    assert_eq!((resp[6] & 0x80, resp[5] as i8), (0x80, -15));
    let resp = d.roundtrip(&mut ring, &cbc(1 << 40, list, 16));
    assert_eq!(
        (resp[6] & 0x80, resp[5] as i8),
        (0x80, -15),
        "CD outside RAM"
    );
    let resp = d.roundtrip(&mut ring, &cbc(cd, u64::MAX - 8, 16));
    assert_eq!(resp[5] as i8, -15, "list header outside RAM");
}

#[test]
fn test_short_buffer_list_is_refused() {
    let (mut d, mut ring, cd) = setup();
    let data = d.put(&[0; 16]);
    let list = buffer_list(&mut d, &[(data, 16)]);
    let resp = d.roundtrip(&mut ring, &cbc(cd, list, 32));
    assert_eq!((resp[6] & 0x80, resp[5] as i8), (0x80, -13));
    // A list whose entry table runs off the end of memory.
    let mut header = [0u8; 16];
    header[8..12].copy_from_slice(&3u32.to_le_bytes());
    let at = MEM_SIZE - 32;
    d.mem
        .write_slice(&header, vm_memory::GuestAddress(at))
        .unwrap();
    let resp = d.roundtrip(&mut ring, &cbc(cd, at, 16));
    assert_eq!(resp[5] as i8, -15);
}

#[test]
fn test_looping_buffer_list_with_absurd_entry_count_is_refused() {
    let (mut d, mut ring, cd) = setup();
    // Every entry points at the same bytes, and the count claims 4 G.
    let data = d.put(&[0; 16]);
    let list = buffer_list(&mut d, &[(data, 16); 8]);
    d.mem
        .write_slice(&u32::MAX.to_le_bytes(), vm_memory::GuestAddress(list + 8))
        .unwrap();
    let resp = d.roundtrip(&mut ring, &cbc(cd, list, 16));
    assert_eq!((resp[6] & 0x80, resp[5] as i8), (0x80, -13));
}

#[test]
fn test_unknown_command_and_service_ids_get_error_status() {
    let (mut d, mut ring, cd) = setup();
    let data = d.put(&[0; 16]);
    let list = buffer_list(&mut d, &[(data, 16)]);
    let mut r = cbc(cd, list, 16);
    r[1] = 42;
    let resp = d.roundtrip(&mut ring, &r);
    assert_eq!((resp[6] & 0x80, resp[5] as i8, resp[7]), (0x80, -13, 42));
    r[2] = 0x66;
    let resp = d.roundtrip(&mut ring, &r);
    assert_eq!((resp[2], resp[6] & 0xf0), (0x66, 0xf0));
    let mut c = comp_request(9, list, 16, list, 16, 1);
    c[1] = 5; // LZ4S: not implemented
    let resp = d.roundtrip(&mut ring, &c);
    assert_eq!((resp[6] & 0x20, resp[5] as i8), (0x20, -13));
}

#[test]
fn test_bad_cipher_config_and_lengths_are_crypto_errors() {
    let (mut d, mut ring, _) = setup();
    let data = d.put(&[0; 32]);
    let list = buffer_list(&mut d, &[(data, 32)]);
    for (config, len) in [(0x17u32, 16u32), (0x113, 16), (0x13, 15)] {
        let cd = d.put(&cipher_block(config, &[1; 16]));
        let resp = d.roundtrip(&mut ring, &cbc(cd, list, len));
        assert_eq!(resp[6] & 0x80, 0x80, "config {config:#x} len {len}");
    }
}

#[test]
fn test_ring_outside_guest_ram_raises_the_error_vector() {
    let mut d = Driver::new();
    d.probe();
    d.msi.take();
    let _ = d.ring_pair(6, 7, 6);
    d.set_csr(6, RING_UBASE, 0x10);
    d.set_csr(6, RING_TAIL, 128);
    d.run();
    assert_eq!(d.msi.take(), vec![AE_CLUSTER_VECTOR]);
    assert_eq!(d.pmisc(ERRSOU3) & ERRSOU3_ATUFAULT, ERRSOU3_ATUFAULT);
    assert_eq!(d.pmisc(ATUFAULTSTATUS + 4 * 6), 1);
    assert_eq!(d.csr(6, EXP_STAT), 1);
    d.set_pmisc(ATUFAULTSTATUS + 4 * 6, 1);
    assert_eq!(d.pmisc(ERRSOU3), 0);
}

#[test]
fn test_bad_ring_csr_values_fault_the_ring() {
    let (mut d, _ring, _) = setup();
    d.msi.take();
    d.set_csr(4, RING_TAIL, 0x10);
    assert_eq!(d.csr(4, EXP_STAT), 1, "misaligned tail");
    assert_eq!(d.csr(4, RING_TAIL), 0);
    d.set_csr(4, RING_TAIL, 1 << 20);
    assert_eq!(d.msi.take(), vec![AE_CLUSTER_VECTOR, AE_CLUSTER_VECTOR]);
    // Masked in ERRMSK3: the fault is recorded, no vector.
    d.set_pmisc(ERRMSK3, ERRSOU3_ATUFAULT);
    d.set_csr(4, RING_HEAD + 4, 0x10);
    assert!(d.msi.take().is_empty());
    assert_eq!(d.csr(4, EXP_STAT), 0b11);
    // A ring size code out of range: the pair never runs.
    d.set_csr(4, RING_CONFIG, 31);
    d.set_csr(4, RING_TAIL, 0);
    d.run();
}
