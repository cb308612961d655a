//! Inspection keeps memory bounded whatever the bytes claim: a metadata bomb (a PNG `iCCP`,
//! `zTXt` or `iTXt` chunk that inflates to 128 MiB from about 0.1 MB) or a header that declares
//! huge dimensions is read with at most [`MAX_DECODER_ALLOC`] bytes of decoder allocations, and
//! ends as a rejection or an inspection, never an out-of-memory crash. Measured with a counting
//! global allocator (peak bytes allocated during `inspect`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;

use argus_runtime::inspect::{MAX_DECODER_ALLOC, inspect};
use flate2::Compression;
use flate2::write::ZlibEncoder;
use peak_alloc::PeakAlloc;

#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

/// Inflated size of each bomb: 128 MiB, eight times the decoder limit (the image crate's own
/// default would allow 512 MiB).
const BOMB_BYTES: usize = 128 * 1024 * 1024;

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    let mut out = Vec::with_capacity(data.len() + 12);
    out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
    out
}

/// zlib of `len` zero bytes, compressed in 1 MiB steps (the test itself stays small).
fn zlib_zeros(len: usize) -> Vec<u8> {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::best());
    let block = vec![0u8; 1024 * 1024];
    for _ in 0..len / block.len() {
        encoder.write_all(&block).unwrap();
    }
    encoder.finish().unwrap()
}

/// A valid `width`×`height` RGB PNG with `extra` chunks between IHDR and IDAT.
fn png(width: u32, height: u32, extra: &[Vec<u8>]) -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no filter, no interlace
    let row = 1 + 3 * usize::try_from(width).unwrap();
    // The whole image when it is small; one row of a huge one (a header read needs no more).
    let rows = if width <= 1_000 {
        usize::try_from(height).unwrap()
    } else {
        1
    };
    let mut idat = ZlibEncoder::new(Vec::new(), Compression::best());
    idat.write_all(&vec![0u8; row * rows]).unwrap();
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(chunk(b"IHDR", &ihdr));
    for c in extra {
        out.extend_from_slice(c);
    }
    out.extend(chunk(b"IDAT", &idat.finish().unwrap()));
    out.extend(chunk(b"IEND", &[]));
    out
}

/// Peak bytes allocated while inspecting `bytes`, and whether it passed.
fn peak_of(bytes: &[u8]) -> (usize, bool) {
    ALLOCATOR.reset_peak_usage();
    let before = ALLOCATOR.current_usage();
    let passed = inspect(bytes).is_ok();
    (ALLOCATOR.peak_usage().saturating_sub(before), passed)
}

#[test]
fn metadata_bombs_and_huge_declared_dimensions_stay_within_the_decoder_limit() {
    let inflated = zlib_zeros(BOMB_BYTES);
    let mut iccp = b"bomb\0\0".to_vec(); // profile name, NUL, compression method 0
    iccp.extend_from_slice(&inflated);
    let mut ztxt = b"Comment\0\0".to_vec(); // keyword, NUL, compression method 0
    ztxt.extend_from_slice(&inflated);
    let mut itxt = b"Comment\0\x01\0\0\0".to_vec(); // keyword, compressed, method, lang, key
    itxt.extend_from_slice(&inflated);
    let cases = [
        ("iCCP", png(100, 100, &[chunk(b"iCCP", &iccp)])),
        ("zTXt", png(100, 100, &[chunk(b"zTXt", &ztxt)])),
        ("iTXt", png(100, 100, &[chunk(b"iTXt", &itxt)])),
        ("huge dimensions", png(1_000_000, 1_000_000, &[])),
    ];
    let limit = usize::try_from(MAX_DECODER_ALLOC).unwrap();
    for (name, bytes) in &cases {
        assert!(
            bytes.len() < 2 * 1024 * 1024,
            "{name}: {} bytes",
            bytes.len()
        );
        let (peak, _) = peak_of(bytes);
        // The decoder's own limit plus the reader's buffers and the SHA-256: well under 2× it.
        assert!(
            peak < 2 * limit,
            "{name}: inspect allocated {peak} bytes at its peak (limit {limit})"
        );
    }
    // A plain image of the same size still passes, so the limit refuses only the bombs.
    let (_, passed) = peak_of(&png(100, 100, &[]));
    assert!(passed);
}
