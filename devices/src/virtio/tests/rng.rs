use super::harness::*;
use crate::virtio::*;

const VERSION_1: u64 = 1 << VIRTIO_F_VERSION_1;

#[test]
fn test_rng_fills_buffer_and_interrupts_queue_vector() {
    let mut d = Driver::new(Rng::new());
    d.init(VERSION_1, 16);
    let buf = d.alloc(256, 0);
    let head = d.push(0, &[(buf, 256, true)]);
    d.kick(0);
    assert_eq!(d.used(0), vec![(u32::from(head), 256)]);
    let bytes = d.bytes(buf, 256);
    assert!(
        bytes.iter().filter(|&&b| b == 0).count() < 16,
        "random, not zeros"
    );
    assert_eq!(d.msi.take_vectors(), vec![1], "queue 0 uses vector 1");
}

#[test]
fn test_rng_fills_every_writable_segment() {
    let mut d = Driver::new(Rng::new());
    d.init(VERSION_1, 16);
    let (a, b) = (d.alloc(64, 0), d.alloc(64, 0));
    d.push(0, &[(a, 64, true), (b, 64, true)]);
    d.kick(0);
    assert_eq!(d.used(0), vec![(0, 128)]);
    assert_ne!(d.bytes(b, 64), vec![0; 64]);
}

#[test]
fn test_rng_loop_chain_is_returned_empty() {
    let mut d = Driver::new(Rng::new());
    d.init(VERSION_1, 16);
    let buf = d.alloc(64, 0);
    d.write_desc(0, 0, buf, 64, F_WRITE | F_NEXT, 1);
    d.write_desc(0, 1, buf, 64, F_WRITE | F_NEXT, 0);
    d.publish(0, 0);
    d.kick(0);
    assert_eq!(d.used(0), vec![(0, 0)]);
    assert_eq!(d.bytes(buf, 64), vec![0; 64], "nothing written for a loop");
}

#[test]
fn test_rng_buffer_outside_memory_is_not_written() {
    let mut d = Driver::new(Rng::new());
    d.init(VERSION_1, 16);
    d.push(0, &[(MEM_SIZE - 8, 64, true)]);
    d.kick(0);
    assert_eq!(d.used(0), vec![(0, 0)]);
}
