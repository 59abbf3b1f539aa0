//! The IAA driver against the IAA device model (`devices::iaa::Iaa`)
//! below a root port: bring-up with and without MSI-X, round trips of
//! every page kind, the model's output inflated by miniz_oxide and
//! miniz_oxide's streams (stored, fixed, dynamic) decompressed by the
//! device, overflow and error statuses, completion interrupts, and each
//! descriptor arriving as one 64-byte portal write.

mod common;

use std::sync::{Arc, Mutex};

use common::{memory, MsiLog, Sim};
use devices::iaa::Iaa as Model;
use devices::pci::{self, HostBridge, MsiSink, PciRoot, RootPort};
use guest_drivers::compress::Compressor;
use guest_drivers::iaa::{self, Iaa, IaaError, Options};
use guest_drivers::pattern::{fill_page, PageKind};
use guest_drivers::pci::{enumerate, MsiTarget, PciDevice};
use guest_drivers::Hal;
use miniz_oxide::deflate::core::{create_comp_flags_from_zip_params, CompressorOxide};
use miniz_oxide::deflate::{compress_to_vec, core as deflate_core};
use miniz_oxide::inflate::decompress_to_vec;

/// Where the driver's interrupts go.
const TARGET: MsiTarget = MsiTarget {
    apic_id: 0,
    vector: 0x40,
};
const PAGE: usize = 4096;

/// The machine: host bridge, one root port, the IAA model below it.
struct Rig {
    sim: Sim,
    model: Arc<Mutex<Model>>,
    device: PciDevice,
}

impl Rig {
    fn new() -> Self {
        let mem = memory();
        let msi = Arc::new(MsiLog::default());
        let sink: Arc<dyn MsiSink> = msi.clone();
        let model = Arc::new(Mutex::new(Model::new(mem.clone(), sink).expect("model")));
        let mut root = PciRoot::new();
        root.add(
            pci::Bdf::root(0, 0),
            Arc::new(Mutex::new(HostBridge::new())),
        )
        .unwrap();
        let port = pci::Bdf::root(1, 0);
        root.add(port, Arc::new(Mutex::new(RootPort::generic(1))))
            .unwrap();
        root.add_below(port, 0, model.clone()).unwrap();
        let sim = Sim::new(root, mem, msi);
        let device = enumerate(&sim)
            .into_iter()
            .find(iaa::is_iaa)
            .expect("the IAA function enumerates");
        Self { sim, model, device }
    }

    fn driver(&self, options: Options) -> Iaa<Sim> {
        Iaa::new(self.sim.clone(), &self.device, options).expect("IAA comes up")
    }

    /// MSI-X vectors the device signalled, in order.
    fn vectors(&self) -> Vec<u16> {
        self.sim.0.msi.messages().iter().map(|(v, _)| *v).collect()
    }
}

fn page(kind: PageKind, index: u64) -> Vec<u8> {
    let mut page = vec![0u8; PAGE];
    fill_page(kind, index, &mut page);
    page
}

/// Compresses `page` into zswap's 4096 bytes, or (incompressible) 8 KiB.
fn compress(iaa: &mut Iaa<Sim>, page: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 2 * PAGE];
    let len = match iaa.compress(page, &mut out[..PAGE]) {
        Ok(len) => len,
        Err(e) if e.is_incompressible() => iaa.compress(page, &mut out).expect("fits 8 KiB"),
        Err(e) => panic!("compress: {e}"),
    };
    out.truncate(len);
    out
}

/// zlib's CRC-32 (reflected 0x04C11DB7), bit by bit.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xedb8_8320 & 0u32.wrapping_sub(crc & 1));
        }
    }
    !crc
}

/// miniz_oxide's raw deflate of `data` with only static (fixed) blocks.
fn miniz_fixed(data: &[u8]) -> Vec<u8> {
    let flags = create_comp_flags_from_zip_params(6, -15, 0)
        | deflate_core::deflate_flags::TDEFL_FORCE_ALL_STATIC_BLOCKS;
    let mut compressor = CompressorOxide::new(flags);
    let mut out = vec![0u8; 2 * data.len() + 64];
    let (status, _, written) = deflate_core::compress(
        &mut compressor,
        data,
        &mut out,
        deflate_core::TDEFLFlush::Finish,
    );
    assert_eq!(status, deflate_core::TDEFLStatus::Done);
    out.truncate(written);
    out
}

#[test]
fn test_msix_bring_up_completes_commands_on_vector_0() {
    let rig = Rig::new();
    let iaa = rig.driver(Options {
        msi: Some(TARGET),
        ..Options::default()
    });
    assert_eq!(rig.vectors(), [0, 0], "ENABLE_DEVICE and ENABLE_WQ");
    let message = rig.sim.0.msi.messages()[0].1;
    assert_eq!((message.address, message.data), (0xfee0_0000, 0x40));
    assert_eq!(rig.model.lock().unwrap().stats().commands, 3);
    let msix = iaa.controller().msix().expect("MSI-X set up");
    assert_eq!(msix.entries(), 9);
    assert!(msix.is_enabled(&rig.sim));
}

#[test]
fn test_polled_bring_up_sends_no_message() {
    let rig = Rig::new();
    let mut iaa = rig.driver(Options::default());
    let text = page(PageKind::Text, 3);
    let packed = compress(&mut iaa, &text);
    assert!(packed.len() < 200, "{} bytes", packed.len());
    assert_eq!(rig.sim.0.msi.count(), 0);
}

#[test]
fn test_every_page_kind_round_trips_and_inflates_with_miniz() {
    let rig = Rig::new();
    let mut iaa = rig.driver(Options::default());
    for index in 0..3 {
        for kind in PageKind::ALL {
            let original = page(kind, index);
            let packed = compress(&mut iaa, &original);
            assert_eq!(packed[0] & 0b111, 0b011, "{kind:?}: one final fixed block");
            let inflated = decompress_to_vec(&packed).expect("miniz inflates the model's output");
            assert_eq!(inflated, original, "{kind:?} {index}: miniz");
            let mut back = vec![0u8; PAGE];
            let n = iaa.decompress(&packed, &mut back).unwrap();
            assert_eq!((n, &back), (PAGE, &original), "{kind:?} {index}: device");
        }
    }
    let stats = rig.model.lock().unwrap().stats();
    assert_eq!(stats.dropped, 0);
    assert_eq!(
        stats.engine.compress + stats.engine.decompress,
        iaa.descriptors(),
        "each descriptor ran once"
    );
}

#[test]
fn test_compression_ratios_are_those_of_real_matching() {
    let rig = Rig::new();
    let mut iaa = rig.driver(Options::default());
    let sizes: Vec<usize> = PageKind::ALL
        .into_iter()
        .map(|kind| compress(&mut iaa, &page(kind, 1)).len())
        .collect();
    let [zeros, text, counters, random] = sizes[..] else {
        unreachable!()
    };
    assert!(zeros < 64, "zeros: {zeros}");
    assert!(text < 200, "text: {text}");
    // Only 3-byte matches exist in this page; the model's matcher starts at
    // 4 bytes, so it emits literals (about 4150 bytes, where miniz_oxide's
    // fixed blocks give about 2620): it must still stay a valid stream no
    // longer than all literals would be (9 bits for bytes >= 144).
    assert!(counters <= PAGE * 9 / 8 + 8, "counters: {counters}");
    assert!(random > PAGE, "random: {random}");
}

#[test]
fn test_miniz_streams_of_every_block_type_decompress_on_the_device() {
    let rig = Rig::new();
    let mut iaa = rig.driver(Options::default());
    for kind in PageKind::ALL {
        let original = page(kind, 7);
        let mut streams: Vec<(String, Vec<u8>)> = [0u8, 1, 6, 9]
            .into_iter()
            .map(|level| (format!("level {level}"), compress_to_vec(&original, level)))
            .collect();
        streams.push(("fixed".into(), miniz_fixed(&original)));
        for (name, stream) in streams {
            let mut back = vec![0u8; PAGE];
            let n = iaa
                .decompress(&stream, &mut back)
                .unwrap_or_else(|e| panic!("{kind:?} {name}: {e}"));
            assert_eq!((n, &back), (PAGE, &original), "{kind:?} {name}");
        }
    }
}

#[test]
fn test_crcs_are_zlibs_over_the_uncompressed_bytes() {
    let rig = Rig::new();
    let mut iaa = rig.driver(Options::default());
    let hal = rig.sim.clone();
    let buffers = hal.dma_alloc(4 * PAGE).unwrap();
    let (src, packed, back) = (buffers, buffers + PAGE as u64, buffers + 3 * PAGE as u64);
    let original = page(PageKind::Counters, 5);
    hal.dma_write(src, &original);
    let c = iaa
        .compress_dma(src, PAGE as u32, packed, 2 * PAGE as u32)
        .unwrap();
    assert_eq!(c.crc, crc32(&original));
    iaa.verify_dma(packed, c.len, src, PAGE as u32, c.crc)
        .unwrap();
    let d = iaa
        .decompress_dma(packed, c.len, back, PAGE as u32)
        .unwrap();
    assert_eq!((d.len, d.crc), (PAGE as u32, c.crc));
    assert_eq!(
        iaa.verify_dma(packed, c.len, src, PAGE as u32, c.crc ^ 1),
        Err(IaaError::VerifyFailed {
            compress: c.crc ^ 1,
            verify: c.crc
        })
    );
    let mut staged = vec![0u8; PAGE];
    hal.dma_read(src, &mut staged);
    assert_eq!(
        staged, original,
        "verify wrote nothing to the page it names"
    );
}

#[test]
fn test_decompress_into_too_small_a_buffer_overflows() {
    let rig = Rig::new();
    let mut iaa = rig.driver(Options::default());
    let packed = compress(&mut iaa, &page(PageKind::Text, 0));
    let mut small = vec![0u8; PAGE / 2];
    assert_eq!(
        iaa.decompress(&packed, &mut small),
        Err(IaaError::OutputOverflow)
    );
}

#[test]
fn test_garbage_stream_is_an_analytics_error() {
    let rig = Rig::new();
    let mut iaa = rig.driver(Options::default());
    // BTYPE 11 (reserved) in the first byte, then noise.
    let mut garbage = page(PageKind::Random, 9);
    garbage[0] = 0b111;
    let err = iaa
        .decompress(&garbage[..100], &mut [0u8; PAGE])
        .unwrap_err();
    assert!(
        matches!(err, IaaError::Status { status: 0x0a, .. }),
        "{err:?}"
    );
}

#[test]
fn test_completion_interrupts_signal_the_wq_vector() {
    let rig = Rig::new();
    let mut iaa = rig.driver(Options {
        msi: Some(TARGET),
        completion_interrupts: true,
        verify: true,
    });
    compress(&mut iaa, &page(PageKind::Text, 1));
    assert_eq!(
        rig.vectors(),
        [0, 0, 1, 1],
        "compress and verify on vector 1"
    );
}

#[test]
fn test_disable_then_bring_up_again() {
    let rig = Rig::new();
    let mut iaa = rig.driver(Options::default());
    iaa.disable().unwrap();
    assert_eq!(
        iaa.decompress(&[3, 0], &mut [0u8; 16]),
        Err(IaaError::NoWorkQueue)
    );
    let mut again = rig.driver(Options::default());
    let original = page(PageKind::Counters, 2);
    let packed = compress(&mut again, &original);
    let mut back = vec![0u8; PAGE];
    again.decompress(&packed, &mut back).unwrap();
    assert_eq!(back, original);
}
