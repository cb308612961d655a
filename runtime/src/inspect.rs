//! Validation of an uploaded object before paying for Rekognition: size, format by magic bytes,
//! dimensions from the header, and the SHA-256 of the bytes.
//!
//! The limits are Rekognition's for images passed as an S3 object
//! (<https://docs.aws.amazon.com/rekognition/latest/dg/limits.html>): at most 15 MB, JPEG or PNG,
//! at least 80 pixels on each side.

use std::fmt;
use std::io::Cursor;

use image::{ImageReader, Limits};
use sha2::{Digest, Sha256};

/// Largest object Rekognition accepts from S3: 15 MB = 15 × 1024 × 1024 bytes.
pub const MAX_BYTES: u64 = 15 * 1024 * 1024;

/// Smallest width and height, in pixels, Rekognition analyses.
pub const MIN_SIDE_PX: u32 = 80;

/// Bytes the header decode may allocate, metadata chunks included (a PNG `iCCP`, `zTXt` or `iTXt`
/// chunk inflates under this limit, not the image crate's default 512 MiB): 16 MiB.
pub const MAX_DECODER_ALLOC: u64 = 16 * 1024 * 1024;

/// Largest width and height, in pixels, a header may declare: 16,384 (a 15 MB file cannot hold
/// an honest image much larger; a header that claims more is a decompression bomb).
pub const MAX_SIDE_PX: u32 = 16_384;

/// The limits every decode of an uploaded image runs with.
pub fn decoder_limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODER_ALLOC);
    limits.max_image_width = Some(MAX_SIDE_PX);
    limits.max_image_height = Some(MAX_SIDE_PX);
    limits
}

const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];
const PNG_MAGIC: &[u8] = &[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

/// An image format Rekognition accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFormat {
    /// JPEG (magic bytes `FF D8 FF`).
    Jpeg,
    /// PNG (magic bytes `89 50 4E 47 0D 0A 1A 0A`).
    Png,
}

impl ImageFormat {
    /// The MIME type, `image/jpeg` or `image/png`.
    pub fn content_type(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Png => "image/png",
        }
    }

    /// The lowercase name, `jpeg` or `png`.
    pub fn as_str(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "jpeg",
            ImageFormat::Png => "png",
        }
    }
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the magic bytes say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sniffed {
    /// A format Rekognition accepts.
    Supported(ImageFormat),
    /// A recognised format Rekognition does not accept: `gif`, `webp`, `bmp`, `tiff`, `heic`,
    /// `avif` or `pdf`.
    Unsupported(&'static str),
    /// Not recognised.
    Unknown,
}

/// Identifies the format of `bytes` by its magic bytes (the first 12 bytes are enough).
pub fn sniff(bytes: &[u8]) -> Sniffed {
    if bytes.starts_with(JPEG_MAGIC) {
        return Sniffed::Supported(ImageFormat::Jpeg);
    }
    if bytes.starts_with(PNG_MAGIC) {
        return Sniffed::Supported(ImageFormat::Png);
    }
    let other = if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        "gif"
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "webp"
    } else if bytes.starts_with(b"BM") {
        "bmp"
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        "tiff"
    } else if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        match &bytes[8..12] {
            b"avif" | b"avis" => "avif",
            b"heic" | b"heix" | b"hevc" | b"heim" | b"heis" | b"mif1" | b"msf1" => "heic",
            _ => return Sniffed::Unknown,
        }
    } else if bytes.starts_with(b"%PDF") {
        "pdf"
    } else {
        return Sniffed::Unknown;
    };
    Sniffed::Unsupported(other)
}

/// An object that passes validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inspection {
    /// SHA-256 of the bytes, 64 lowercase hex characters (what `sha256sum` prints).
    pub sha256: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// The format the magic bytes give.
    pub format: ImageFormat,
    /// The MIME type derived from [`Inspection::format`] (not the one the uploader sent).
    pub content_type: &'static str,
    /// Width in pixels, from the header.
    pub width: u32,
    /// Height in pixels, from the header.
    pub height: u32,
}

/// Why an object is not sent to Rekognition; it ends as a REJECTED record with this reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// A sentence for the record's `reason`, e.g. `unsupported format gif`.
    pub reason: String,
}

impl Rejection {
    fn new(reason: impl Into<String>) -> Self {
        Rejection {
            reason: reason.into(),
        }
    }

    /// The rejection of an object of `size_bytes` over [`MAX_BYTES`] (used without downloading it).
    pub fn too_large(size_bytes: u64) -> Self {
        Rejection::new(format!(
            "object is {size_bytes} bytes; Rekognition accepts at most {MAX_BYTES} bytes (15 MB)"
        ))
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

/// SHA-256 of `bytes` as 64 lowercase hex characters.
pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// Validates an object's bytes, in order: size (0 → `empty object`, over [`MAX_BYTES`]),
/// format by magic bytes (JPEG or PNG only, else `unsupported format <name>`), dimensions from
/// the header (`cannot read image dimensions: …` when the header does not decode; under
/// [`MIN_SIDE_PX`] on either side → `image is WxH px; …`), then hashes the bytes.
///
/// Only the header is decoded, not the pixels, with [`decoder_limits`]: at most
/// [`MAX_DECODER_ALLOC`] bytes of decoder allocations and [`MAX_SIDE_PX`] on each side, so a
/// metadata bomb or a header claiming huge dimensions is rejected within bounded memory.
///
/// # Errors
/// A [`Rejection`] with the reason.
pub fn inspect(bytes: &[u8]) -> Result<Inspection, Rejection> {
    let size_bytes = bytes.len() as u64;
    if size_bytes == 0 {
        return Err(Rejection::new("empty object"));
    }
    if size_bytes > MAX_BYTES {
        return Err(Rejection::too_large(size_bytes));
    }
    let format = match sniff(bytes) {
        Sniffed::Supported(format) => format,
        Sniffed::Unsupported(name) => {
            return Err(Rejection::new(format!("unsupported format {name}")));
        }
        Sniffed::Unknown => {
            return Err(Rejection::new(
                "unsupported format (not JPEG or PNG by its magic bytes)",
            ));
        }
    };
    let (width, height) = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| e.to_string())
        .and_then(|mut r| {
            r.limits(decoder_limits());
            r.into_dimensions().map_err(|e| e.to_string())
        })
        .map_err(|e| Rejection::new(format!("cannot read image dimensions: {e}")))?;
    if width < MIN_SIDE_PX || height < MIN_SIDE_PX {
        return Err(Rejection::new(format!(
            "image is {width}x{height} px; Rekognition needs at least {MIN_SIDE_PX} px on each side"
        )));
    }
    if !has_end_marker(format, bytes) {
        let marker = match format {
            ImageFormat::Jpeg => "end-of-image marker FF D9",
            ImageFormat::Png => "IEND chunk",
        };
        return Err(Rejection::new(format!(
            "truncated {}: no {marker} at the end",
            format.as_str()
        )));
    }
    Ok(Inspection {
        sha256: sha256_hex(bytes),
        size_bytes,
        format,
        content_type: format.content_type(),
        width,
        height,
    })
}

/// Whether the bytes end like a complete file of `format` (trailing zero padding allowed): JPEG's
/// end-of-image marker `FF D9`, PNG's `IEND` chunk. A cheap check that catches uploads cut short,
/// which a header read alone does not, before they cost a Rekognition call.
fn has_end_marker(format: ImageFormat, bytes: &[u8]) -> bool {
    let end = bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
    let body = &bytes[..end];
    match format {
        ImageFormat::Jpeg => body.ends_with(&[0xFF, 0xD9]),
        ImageFormat::Png => body.ends_with(&[0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82]),
    }
}

/// Test images written with the `image` crate's encoders.
#[cfg(test)]
pub(crate) mod samples {
    use image::codecs::jpeg::JpegEncoder;
    use image::codecs::png::PngEncoder;
    use image::{ExtendedColorType, ImageEncoder};

    fn pixels(width: u32, height: u32) -> Vec<u8> {
        (0..width * height)
            .flat_map(|i| {
                let v = (i % 251) as u8;
                [v, v.wrapping_mul(3), 255 - v]
            })
            .collect()
    }

    /// An RGB PNG of the given size.
    pub fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        PngEncoder::new(&mut out)
            .write_image(
                &pixels(width, height),
                width,
                height,
                ExtendedColorType::Rgb8,
            )
            .unwrap();
        out
    }

    /// An RGB JPEG of the given size.
    pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(&mut out, 80)
            .write_image(
                &pixels(width, height),
                width,
                height,
                ExtendedColorType::Rgb8,
            )
            .unwrap();
        out
    }

    /// A GIF header (logical screen 100x100) and no image data.
    pub fn gif() -> Vec<u8> {
        let mut out = b"GIF89a".to_vec();
        out.extend_from_slice(&[100, 0, 100, 0, 0, 0, 0]);
        out.push(0x3B);
        out
    }

    /// A JPEG cut before its frame header: SOI and the start of an APP0 segment.
    pub fn truncated_jpeg() -> Vec<u8> {
        jpeg(100, 100)[..10].to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::samples::*;
    use super::*;

    #[test]
    fn magic_bytes_identify_the_format() {
        assert_eq!(sniff(&png(1, 1)), Sniffed::Supported(ImageFormat::Png));
        assert_eq!(sniff(&jpeg(8, 8)), Sniffed::Supported(ImageFormat::Jpeg));
        assert_eq!(sniff(&gif()), Sniffed::Unsupported("gif"));
        assert_eq!(
            sniff(b"RIFF\x24\0\0\0WEBPVP8 "),
            Sniffed::Unsupported("webp")
        );
        assert_eq!(sniff(b"\0\0\0\x18ftypheic"), Sniffed::Unsupported("heic"));
        assert_eq!(sniff(b"hello world"), Sniffed::Unknown);
        assert_eq!(sniff(&[0xFF, 0xD8]), Sniffed::Unknown);
    }

    #[test]
    fn a_png_passes_with_its_dimensions_and_hash() {
        let bytes = png(120, 90);
        let i = inspect(&bytes).unwrap();
        assert_eq!((i.width, i.height), (120, 90));
        assert_eq!(i.format, ImageFormat::Png);
        assert_eq!(i.content_type, "image/png");
        assert_eq!(i.size_bytes, bytes.len() as u64);
        assert_eq!(i.sha256, sha256_hex(&bytes));
        assert_eq!(i.sha256.len(), 64);
        assert!(
            i.sha256
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        );
    }

    #[test]
    fn a_jpeg_passes() {
        let i = inspect(&jpeg(80, 200)).unwrap();
        assert_eq!((i.width, i.height), (80, 200));
        assert_eq!(i.content_type, "image/jpeg");
    }

    #[test]
    fn sha256_is_the_known_digest() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn empty_objects_are_rejected() {
        assert_eq!(inspect(&[]).unwrap_err().reason, "empty object");
    }

    #[test]
    fn objects_over_15_mb_are_rejected() {
        let mut big = png(100, 100);
        big.resize(MAX_BYTES as usize + 1, 0);
        let r = inspect(&big).unwrap_err();
        assert!(r.reason.contains("15728641 bytes"), "{r}");
        let mut limit = png(100, 100);
        limit.resize(MAX_BYTES as usize, 0);
        assert!(inspect(&limit).is_ok());
    }

    #[test]
    fn gif_and_unknown_formats_are_rejected() {
        assert_eq!(
            inspect(&gif()).unwrap_err().reason,
            "unsupported format gif"
        );
        assert!(
            inspect(b"just some text")
                .unwrap_err()
                .reason
                .starts_with("unsupported format")
        );
    }

    #[test]
    fn a_truncated_jpeg_is_rejected() {
        let r = inspect(&truncated_jpeg()).unwrap_err();
        assert!(
            r.reason.starts_with("cannot read image dimensions: "),
            "{r}"
        );
    }

    #[test]
    fn images_cut_after_their_header_are_rejected_as_truncated() {
        let full = jpeg(100, 100);
        let r = inspect(&full[..full.len() - 40]).unwrap_err();
        assert_eq!(
            r.reason,
            "truncated jpeg: no end-of-image marker FF D9 at the end"
        );
        let full = png(100, 100);
        let r = inspect(&full[..full.len() - 12]).unwrap_err();
        assert_eq!(r.reason, "truncated png: no IEND chunk at the end");
        // Complete files, also with trailing zero padding, pass.
        let mut padded = jpeg(100, 100);
        padded.extend_from_slice(&[0, 0, 0]);
        assert!(inspect(&padded).is_ok());
        assert!(inspect(&png(100, 100)).is_ok());
    }

    #[test]
    fn small_images_are_rejected_with_their_size() {
        assert_eq!(
            inspect(&png(20, 20)).unwrap_err().reason,
            "image is 20x20 px; Rekognition needs at least 80 px on each side"
        );
        assert!(inspect(&jpeg(200, 79)).is_err());
    }
}
