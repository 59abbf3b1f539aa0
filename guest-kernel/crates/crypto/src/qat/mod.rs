//! The QAT 420xx implementations (Linux's `qat_algs.c` and
//! `qat_comp_algs.c`): each request is bounced into its ring slot's DMA
//! region (content descriptor, buffer lists, one DMA segment per data
//! segment: real scatter-gather through the device), submitted, and its
//! response checked. They register at [`PRIORITY`] (Linux's 4001), above
//! software, and the [`QatEngine`] counts the requests the device served.

use alloc::format;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use guest_drivers::qat::{self, DmaCursor, Qat, QatError, Request, Response, RingPair, Segment};
use guest_drivers::Hal;
use spin::Mutex;

use crate::error::CryptoError;
use crate::precompute::ShaAlg;
use crate::registry::Alg;

mod aead;
mod deflate;
mod hash;
mod skcipher;

pub use aead::{QatAuthenc, QatGcm};
pub use deflate::QatDeflate;
pub use hash::QatHash;
pub use skcipher::QatSkcipher;

/// Priority of the QAT implementations.
pub const PRIORITY: u32 = 4001;
/// How long one request may take.
const TIMEOUT_MS: u64 = 5000;

/// Where the engine's ring pairs go and how big they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineConfig {
    /// Bank of the symmetric-crypto ring pair.
    pub sym_bank: u8,
    /// Bank of the compression ring pair.
    pub dc_bank: u8,
    /// Messages per ring (a power of two).
    pub slots: usize,
    /// DMA bytes per request slot (CD, buffer lists, data).
    pub scratch: usize,
}

impl Default for EngineConfig {
    /// Linux's first crypto instance's sym bank (1) and a bank of its own
    /// for compression (2); 32 slots of 16 KiB.
    fn default() -> Self {
        Self {
            sym_bank: 1,
            dc_bank: 2,
            slots: 32,
            scratch: 16 << 10,
        }
    }
}

/// Which ring pair a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    Sym,
    Dc,
}

/// The device's ring pairs, shared by every QAT transform.
pub struct QatEngine<H: Hal> {
    sym: Mutex<RingPair<H>>,
    dc: Mutex<RingPair<H>>,
    served: AtomicU64,
}

impl<H: Hal> core::fmt::Debug for QatEngine<H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "QatEngine {{ served: {} }}",
            self.served.load(Ordering::Relaxed)
        )
    }
}

pub(crate) fn device_error(e: QatError) -> CryptoError {
    CryptoError::Device(format!("{e}"))
}

/// A request's data in DMA memory: the buffer lists and the segments.
pub(crate) struct Staged {
    /// Source buffer list.
    pub src: u64,
    /// Destination buffer list (the source's when in place).
    pub dst: u64,
    /// The destination segments, to copy back.
    pub out: Vec<Segment>,
}

impl<H: Hal + Send> QatEngine<H> {
    /// Sets up the ring pairs on a device brought up with [`Qat::probe`].
    pub fn new(device: &Qat<H>, config: EngineConfig) -> Result<Arc<Self>, CryptoError>
    where
        H: Clone,
    {
        let pair = |bank| {
            device
                .ring_pair(bank, config.slots, config.scratch)
                .map_err(device_error)
        };
        Ok(Arc::new(Self {
            sym: Mutex::new(pair(config.sym_bank)?),
            dc: Mutex::new(pair(config.dc_bank)?),
            served: AtomicU64::new(0),
        }))
    }

    /// Requests the device answered so far.
    pub fn served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }

    /// Doorbell writes so far, sym and dc rings together.
    pub fn doorbells(&self) -> u64 {
        self.sym.lock().doorbells() + self.dc.lock().doorbells()
    }

    /// Runs `f` with the ring pair of `service` locked and slot 0's DMA
    /// region to lay one request out in.
    pub(crate) fn with_slot<T>(
        &self,
        service: Service,
        f: impl FnOnce(&mut Slot<'_, H>) -> Result<T, CryptoError>,
    ) -> Result<T, CryptoError> {
        let mut ring = match service {
            Service::Sym => self.sym.lock(),
            Service::Dc => self.dc.lock(),
        };
        let region = ring
            .scratch(0)
            .ok_or(CryptoError::Unsupported("no ring slot"))?;
        f(&mut Slot {
            ring: &mut ring,
            cursor: DmaCursor::new(region),
            served: &self.served,
        })
    }
}

/// A locked ring pair and the DMA region of the request being built.
pub(crate) struct Slot<'a, H: Hal> {
    ring: &'a mut RingPair<H>,
    /// Where the request's CD, lists and data go.
    pub cursor: DmaCursor,
    served: &'a AtomicU64,
}

impl<H: Hal> Slot<'_, H> {
    /// The register-access handle.
    pub fn hal(&self) -> &H {
        self.ring.hal()
    }

    /// The handle and the cursor, borrowed together.
    pub fn parts(&mut self) -> (&H, &mut DmaCursor) {
        (self.ring.hal(), &mut self.cursor)
    }

    /// Copies `bytes` into the slot's DMA region.
    pub fn put(&mut self, bytes: &[u8]) -> Result<u64, CryptoError> {
        self.cursor
            .put(self.ring.hal(), bytes)
            .map_err(device_error)
    }

    /// Submits `request` alone (one doorbell) and waits for its response.
    pub fn submit(&mut self, request: Request) -> Result<Response, CryptoError> {
        let responses = self
            .ring
            .run(&[request], TIMEOUT_MS)
            .map_err(device_error)?;
        self.served.fetch_add(1, Ordering::Relaxed);
        Ok(responses[0])
    }
}

/// Copies `segments` of data into DMA memory at the cursor, `len` bytes
/// in all (segments past `len` are cut); returns the DMA segments.
pub(crate) fn stage_segments<H: Hal>(
    hal: &H,
    cursor: &mut DmaCursor,
    segments: &[&[u8]],
    len: usize,
) -> Result<Vec<Segment>, CryptoError> {
    let mut out = Vec::new();
    let mut left = len;
    for seg in segments {
        let n = seg.len().min(left);
        if n == 0 {
            continue;
        }
        let addr = cursor.put(hal, &seg[..n]).map_err(device_error)?;
        out.push(Segment {
            addr,
            len: n as u32,
        });
        left -= n;
    }
    if out.is_empty() {
        // A zero-length payload still needs a list with one entry.
        let addr = cursor.take(64, 64).map_err(device_error)?;
        out.push(Segment { addr, len: 0 });
    }
    Ok(out)
}

/// Stages `data` (`in_len` input bytes, `out_len` output bytes): in place,
/// one list over the output-sized segments; out of place, a source list
/// and a destination list pre-filled with the input (so the bytes the
/// device does not write, like the AAD, read back as they came in).
pub(crate) fn stage<H: Hal>(
    hal: &H,
    cursor: &mut DmaCursor,
    data: &crate::data::Data<'_, '_>,
    in_len: usize,
    out_len: usize,
) -> Result<Staged, CryptoError> {
    let input = data.gather(in_len)?;
    if out_len > data.output_len() {
        return Err(CryptoError::Overflow);
    }
    let list = |cursor: &mut DmaCursor, segs: &[Segment]| {
        qat::dma::put_buffer_list(hal, cursor, segs).map_err(device_error)
    };
    // The output-shaped segments, holding the input at their start.
    let mut filled = input.clone();
    filled.resize(out_len.max(in_len), 0);
    let shapes = data.output_segments();
    let mut pieces: Vec<&[u8]> = Vec::new();
    let mut rest = &filled[..];
    for size in shapes {
        let n = size.min(rest.len());
        pieces.push(&rest[..n]);
        rest = &rest[n..];
    }
    if data.in_place() {
        let out = stage_segments(hal, cursor, &pieces, out_len.max(in_len))?;
        let src = list(cursor, &out)?;
        return Ok(Staged { src, dst: src, out });
    }
    let srcs: Vec<&[u8]> = (0..data.input_segments().len())
        .map(|i| data.input_segment(i))
        .collect();
    let src_segs = stage_segments(hal, cursor, &srcs, in_len)?;
    let out = stage_segments(hal, cursor, &pieces, out_len)?;
    let (src, dst) = (list(cursor, &src_segs)?, list(cursor, &out)?);
    Ok(Staged { src, dst, out })
}

/// The first `len` bytes of the DMA `segments`.
pub(crate) fn read_segments<H: Hal>(hal: &H, segments: &[Segment], len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    let mut at = 0;
    for seg in segments {
        let n = (seg.len as usize).min(len - at);
        hal.dma_read(seg.addr, &mut bytes[at..at + n]);
        at += n;
    }
    bytes
}

/// Reads the first `len` bytes of the DMA `segments` back into `data`'s
/// output.
pub(crate) fn unstage<H: Hal>(
    hal: &H,
    segments: &[Segment],
    len: usize,
    data: &mut crate::data::Data<'_, '_>,
) -> Result<(), CryptoError> {
    data.scatter(&read_segments(hal, segments, len))
}

/// The error for an LA response with a non-zero status: a crypto error
/// without an error code is a failed tag or digest comparison (Linux's
/// -EBADMSG); anything else is the device failing the request.
pub(crate) fn la_status(resp: &Response) -> CryptoError {
    let (status, code) = (qat::response_status(resp), resp[5] as i8);
    if status & qat::la::STATUS_CRYPTO_ERROR != 0 && code == 0 {
        CryptoError::BadMessage
    } else {
        CryptoError::Device(format!("status {status:#x} error code {code}"))
    }
}

/// The driver's hash algorithm for `alg`.
pub(crate) fn driver_hash(alg: ShaAlg) -> qat::la::HashAlg {
    match alg {
        ShaAlg::Sha1 => qat::la::HashAlg::Sha1,
        ShaAlg::Sha256 => qat::la::HashAlg::Sha256,
        ShaAlg::Sha512 => qat::la::HashAlg::Sha512,
    }
}

/// Every QAT implementation on `engine`, ready to register: ciphers and
/// digests if the device has the sym slices, deflate if it compresses.
pub fn algs<H: Hal + Send + 'static>(
    engine: &Arc<QatEngine<H>>,
    info: &qat::DeviceInfo,
) -> Vec<Alg> {
    let mut algs = Vec::new();
    if info.sym {
        algs.push(Alg::Skcipher(Arc::new(QatSkcipher::cbc(engine.clone()))));
        algs.push(Alg::Skcipher(Arc::new(QatSkcipher::ctr(engine.clone()))));
        algs.push(Alg::Aead(Arc::new(QatGcm(engine.clone()))));
        for alg in [ShaAlg::Sha1, ShaAlg::Sha256, ShaAlg::Sha512] {
            algs.push(Alg::Hash(Arc::new(QatHash::plain(engine.clone(), alg))));
            algs.push(Alg::Hash(Arc::new(QatHash::hmac(engine.clone(), alg))));
            algs.push(Alg::Aead(Arc::new(QatAuthenc(engine.clone(), alg))));
        }
    }
    if info.compression {
        algs.push(Alg::Compression(Arc::new(QatDeflate(engine.clone()))));
    }
    algs
}
