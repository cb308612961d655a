//! Inspection keeps memory bounded whatever the bytes claim: a metadata bomb of the hostile
//! corpus ([`argus_twin::corpus`]: a PNG `iCCP`, `zTXt` or `iTXt` chunk that inflates to 512 MiB
//! from about 0.5 MB, a JPEG with 13 MB of APPn segments) or a header that declares
//! huge dimensions is read with at most [`MAX_DECODER_ALLOC`] bytes of decoder allocations, and
//! ends as a rejection or an inspection, never an out-of-memory crash. Measured with a counting
//! global allocator (peak bytes allocated during `inspect`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use argus_runtime::inspect::{MAX_DECODER_ALLOC, inspect};
use argus_twin::corpus::{self, HostileImage};
use peak_alloc::PeakAlloc;

#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

/// Peak bytes allocated while inspecting `bytes`, and whether it passed.
fn peak_of(bytes: &[u8]) -> (usize, bool) {
    ALLOCATOR.reset_peak_usage();
    let before = ALLOCATOR.current_usage();
    let passed = inspect(bytes).is_ok();
    (ALLOCATOR.peak_usage().saturating_sub(before), passed)
}

#[test]
fn metadata_bombs_and_huge_declared_dimensions_stay_within_the_decoder_limit() {
    // The corpus's bombs inflate to 512 MiB (32 times the decoder limit; the image crate's own
    // default would allow all of it).
    let cases: Vec<HostileImage> = corpus::hostile()
        .unwrap()
        .into_iter()
        .filter(|f| f.kind.ends_with("-bomb") || f.kind.ends_with("-huge-dimensions"))
        .collect();
    assert_eq!(cases.len(), 7, "{cases:?}");
    let limit = usize::try_from(MAX_DECODER_ALLOC).unwrap();
    for case in &cases {
        let (peak, _) = peak_of(&case.bytes);
        // The decoder's own limit plus the reader's buffers and the SHA-256: well under 2× it.
        assert!(
            peak < 2 * limit,
            "{}: inspect allocated {peak} bytes at its peak (limit {limit})",
            case.kind
        );
    }
    // A plain image still passes, so the limit refuses only the bombs: the first half of
    // `png-concatenated` is one whole 120×120 PNG.
    let two = corpus::hostile()
        .unwrap()
        .into_iter()
        .find(|f| f.kind == "png-concatenated")
        .unwrap();
    let (_, passed) = peak_of(&two.bytes[..two.bytes.len() / 2]);
    assert!(passed);
}
