//! A hostile image corpus for tests and benches: files an attacker would upload to make an
//! image pipeline run out of memory, crash, or mistake one format for another. Every file is
//! generated here, small on disk, from a few kilobytes to just over the 15 MiB upload limit.
//!
//! | kind | what it is |
//! |---|---|
//! | `png-iccp-bomb`, `png-ztxt-bomb`, `png-itxt-bomb` | a valid 100×100 PNG with a colour profile / text chunk whose zlib stream inflates to 512 MiB from about 0.5 MB |
//! | `png-huge-dimensions` | an IHDR declaring 1,000,000 × 1,000,000 px |
//! | `png-pixel-bomb` | a valid 16,384 × 16,384 RGB PNG (768 MiB of pixels once decoded) in about 0.8 MB |
//! | `jpeg-app-bomb` | a valid JPEG carrying 200 APP2 `ICC_PROFILE` and APP1 segments (about 13 MB of metadata) |
//! | `jpeg-huge-dimensions` | a JPEG whose frame header declares 65,500 × 65,500 px |
//! | `jpeg-truncated`, `png-truncated` | the first half of a valid file |
//! | `jpeg-concatenated`, `png-concatenated` | two valid files back to back |
//! | `jpeg-zip-polyglot` | a valid JPEG with a ZIP archive after it (both formats read it) |
//! | `png-html-polyglot` | a valid PNG with a `<script>` in a text chunk and an HTML page after IEND |
//! | `gif-jpeg-polyglot` | a GIF header in front of a JPEG |
//! | `over-limit` | a valid JPEG padded with comment segments to 15 MiB + 1 byte |
//! | `empty` | zero bytes |
//!
//! PNG: <https://www.w3.org/TR/png-3/>; JPEG markers: ITU-T T.81 Annex B; zlib: RFC 1950 and
//! RFC 1951 (the bombs repeat one fully flushed deflate segment, so making 512 MiB of zeros
//! costs one compressed megabyte of work).

use std::io::Write;

use flate2::{Compress, Compression, FlushCompress};

/// One file of the corpus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostileImage {
    /// The kind, e.g. `png-iccp-bomb` (table in the module docs); also a safe file name stem.
    pub kind: &'static str,
    /// The file extension its name claims: `png` or `jpg`.
    pub extension: &'static str,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// Inflated size of each metadata bomb: 512 MiB (the `image` crate's default allocation limit).
pub const BOMB_BYTES: usize = 512 * 1024 * 1024;

/// The upload limit the `over-limit` file passes by one byte: 15 MiB.
pub const LIMIT_BYTES: usize = 15 * 1024 * 1024;

/// Errors while generating the corpus (only the encoders can fail).
#[derive(Debug, thiserror::Error)]
#[error("cannot generate the hostile corpus: {0}")]
pub struct CorpusError(String);

fn err(e: impl std::fmt::Display) -> CorpusError {
    CorpusError(e.to_string())
}

/// The whole corpus, in the order of the module's table.
///
/// Errors: [`CorpusError`] when an encoder fails (it never does on valid input).
pub fn hostile() -> Result<Vec<HostileImage>, CorpusError> {
    let zeros = zlib_zeros(BOMB_BYTES)?;
    let mut iccp = b"bomb\0\0".to_vec(); // profile name, NUL, compression method 0
    iccp.extend_from_slice(&zeros);
    let mut ztxt = b"Comment\0\0".to_vec(); // keyword, NUL, compression method 0
    ztxt.extend_from_slice(&zeros);
    let mut itxt = b"Comment\0\x01\0\0\0".to_vec(); // keyword, compressed, method, language, key
    itxt.extend_from_slice(&zeros);
    drop(zeros);

    let jpeg = jpeg(120, 120)?;
    let png_plain = png(120, 120, 2, &[])?;
    let file = |kind, extension, bytes| HostileImage {
        kind,
        extension,
        bytes,
    };
    let mut html = png_plain.clone();
    html.extend_from_slice(b"<html><body><script>alert(document.domain)</script></body></html>");
    let html = {
        // The script also sits inside the image, in a tEXt chunk.
        let text = chunk(b"tEXt", b"Comment\0<script>alert(1)</script>");
        let mut out = png(120, 120, 2, &[text])?;
        out.extend_from_slice(&html[png_plain.len()..]);
        out
    };
    let mut zip_polyglot = jpeg.clone();
    zip_polyglot.extend(zip_archive()?);
    let mut gif = b"GIF89a\x78\x00\x78\x00\x00\x00\x00".to_vec();
    gif.extend_from_slice(&jpeg);

    Ok(vec![
        file(
            "png-iccp-bomb",
            "png",
            png(100, 100, 2, &[chunk(b"iCCP", &iccp)])?,
        ),
        file(
            "png-ztxt-bomb",
            "png",
            png(100, 100, 2, &[chunk(b"zTXt", &ztxt)])?,
        ),
        file(
            "png-itxt-bomb",
            "png",
            png(100, 100, 2, &[chunk(b"iTXt", &itxt)])?,
        ),
        file(
            "png-huge-dimensions",
            "png",
            png(1_000_000, 1_000_000, 2, &[])?,
        ),
        file("png-pixel-bomb", "png", png(16_384, 16_384, 2, &[])?),
        file("jpeg-app-bomb", "jpg", jpeg_with_app_segments(&jpeg, 200)),
        file(
            "jpeg-huge-dimensions",
            "jpg",
            with_frame_size(&jpeg, 65_500, 65_500),
        ),
        file("jpeg-truncated", "jpg", jpeg[..jpeg.len() / 2].to_vec()),
        file(
            "png-truncated",
            "png",
            png_plain[..png_plain.len() / 2].to_vec(),
        ),
        file(
            "jpeg-concatenated",
            "jpg",
            [jpeg.as_slice(), &jpeg].concat(),
        ),
        file(
            "png-concatenated",
            "png",
            [png_plain.as_slice(), &png_plain].concat(),
        ),
        file("jpeg-zip-polyglot", "jpg", zip_polyglot),
        file("png-html-polyglot", "png", html),
        file("gif-jpeg-polyglot", "jpg", gif),
        file("over-limit", "jpg", padded_jpeg(&jpeg, LIMIT_BYTES + 1)),
        file("empty", "jpg", Vec::new()),
    ])
}

/// A PNG chunk: length, type, data, CRC-32 of type and data.
fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    let mut out = Vec::with_capacity(data.len() + 12);
    out.extend_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
    out
}

/// A zlib stream of `len` zero bytes (RFC 1950): one 1 MiB deflate segment compressed once
/// with a full flush (which resets the window, so the segment decodes the same anywhere),
/// repeated, then the remainder, an empty final block and the Adler-32 of `len` zeros
/// (`a = 1`, `b = len mod 65521`).
fn zlib_zeros(len: usize) -> Result<Vec<u8>, CorpusError> {
    const SEGMENT: usize = 1024 * 1024;
    let segment = |n: usize| -> Result<Vec<u8>, CorpusError> {
        let mut compress = Compress::new(Compression::best(), false);
        let mut out = Vec::with_capacity(n / 100 + 1024);
        compress
            .compress_vec(&vec![0u8; n], &mut out, FlushCompress::Full)
            .map_err(err)?;
        Ok(out)
    };
    let whole = segment(SEGMENT)?;
    let mut out = vec![0x78, 0xDA];
    for _ in 0..len / SEGMENT {
        out.extend_from_slice(&whole);
    }
    if !len.is_multiple_of(SEGMENT) {
        out.extend(segment(len % SEGMENT)?);
    }
    let mut last = Compress::new(Compression::best(), false);
    let mut tail = Vec::with_capacity(64);
    last.compress_vec(&[], &mut tail, FlushCompress::Finish)
        .map_err(err)?;
    out.extend(tail);
    let b = u32::try_from(len % 65_521).unwrap_or(0);
    out.extend_from_slice(&((b << 16) | 1).to_be_bytes());
    Ok(out)
}

/// A valid `width`×`height` PNG of zeros with `extra` chunks between IHDR and IDAT; colour
/// type 2 (RGB) or 0 (greyscale), 8 bits. A width over 100,000 px gets one row of data only
/// (a header read needs no more).
fn png(width: u32, height: u32, colour: u8, extra: &[Vec<u8>]) -> Result<Vec<u8>, CorpusError> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, colour, 0, 0, 0]);
    let channels = if colour == 2 { 3 } else { 1 };
    let row = 1 + channels * usize::try_from(width).map_err(err)?;
    let rows = if width > 100_000 {
        1
    } else {
        usize::try_from(height).map_err(err)?
    };
    let idat = zlib_zeros(row * rows)?;
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(chunk(b"IHDR", &ihdr));
    for c in extra {
        out.extend_from_slice(c);
    }
    out.extend(chunk(b"IDAT", &idat));
    out.extend(chunk(b"IEND", &[]));
    Ok(out)
}

/// A valid baseline JPEG of a colour gradient, quality 80.
fn jpeg(width: u32, height: u32) -> Result<Vec<u8>, CorpusError> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .encode_image(&image)
        .map_err(err)?;
    Ok(out)
}

/// A JPEG marker segment: `FF marker`, big-endian length (payload + 2), payload (≤ 65,533 bytes).
fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0xFF, marker];
    out.extend_from_slice(
        &u16::try_from(payload.len() + 2)
            .unwrap_or(u16::MAX)
            .to_be_bytes(),
    );
    out.extend_from_slice(payload);
    out
}

/// `jpeg` with `count` APP2 ICC_PROFILE segments (chunk i of count, 65,519 bytes of profile
/// each) and as many APP1 segments of 1 KiB right after SOI.
fn jpeg_with_app_segments(jpeg: &[u8], count: u8) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec(); // SOI
    for i in 1..=count {
        let mut icc = b"ICC_PROFILE\0".to_vec();
        icc.extend_from_slice(&[i, count]);
        icc.resize(65_533, 0xA5);
        out.extend(segment(0xE2, &icc));
        let mut exif = b"Exif\0\0".to_vec();
        exif.resize(1024, 0x5A);
        out.extend(segment(0xE1, &exif));
    }
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// `jpeg` with the height and width of its first SOFn frame header replaced.
fn with_frame_size(jpeg: &[u8], width: u16, height: u16) -> Vec<u8> {
    let mut out = jpeg.to_vec();
    let mut i = 2;
    while i + 9 < out.len() && out[i] == 0xFF {
        let marker = out[i + 1];
        let len = usize::from(u16::from_be_bytes([out[i + 2], out[i + 3]]));
        if matches!(marker, 0xC0..=0xC3) {
            out[i + 5..i + 7].copy_from_slice(&height.to_be_bytes());
            out[i + 7..i + 9].copy_from_slice(&width.to_be_bytes());
            break;
        }
        i += 2 + len;
    }
    out
}

/// `jpeg` with COM segments after SOI until the file is exactly `total` bytes (at least the
/// JPEG's own size plus one segment header).
fn padded_jpeg(jpeg: &[u8], total: usize) -> Vec<u8> {
    const MAX_PAYLOAD: usize = 65_533;
    let mut out = jpeg[..2].to_vec();
    let mut room = total.saturating_sub(jpeg.len());
    while room >= 4 {
        // A segment is 4 bytes of header plus 0..=65,533 bytes; never leave 1..=3 bytes over.
        let payload = match room - 4 {
            p if p <= MAX_PAYLOAD => p,
            p if p - MAX_PAYLOAD < 4 => MAX_PAYLOAD - 4,
            _ => MAX_PAYLOAD,
        };
        out.extend(segment(0xFE, &vec![0x20; payload]));
        room -= payload + 4;
    }
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A small ZIP archive holding `index.html`.
fn zip_archive() -> Result<Vec<u8>, CorpusError> {
    let mut buffer = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buffer);
        zip.start_file("index.html", zip::write::SimpleFileOptions::default())
            .map_err(err)?;
        zip.write_all(b"<script>alert(1)</script>").map_err(err)?;
        zip.finish().map_err(err)?;
    }
    Ok(buffer.into_inner())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::Read;

    #[test]
    fn the_zeros_stream_inflates_to_exactly_its_length() {
        for len in [0, 5, 1024 * 1024, 3 * 1024 * 1024 + 17] {
            let stream = zlib_zeros(len).unwrap();
            let mut inflated = Vec::new();
            flate2::read::ZlibDecoder::new(stream.as_slice())
                .read_to_end(&mut inflated)
                .unwrap();
            assert_eq!(inflated.len(), len);
            assert!(inflated.iter().all(|b| *b == 0));
        }
    }

    #[test]
    fn every_file_is_what_its_kind_says() {
        let corpus = hostile().unwrap();
        let kind = |k: &str| corpus.iter().find(|f| f.kind == k).unwrap();
        let mut names: Vec<&str> = corpus.iter().map(|f| f.kind).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), corpus.len(), "kinds are unique");
        for file in &corpus {
            // Uploadable (under the limit) but for the one that passes it on purpose.
            if file.kind != "over-limit" {
                assert!(file.bytes.len() < LIMIT_BYTES, "{}", file.kind);
            }
        }
        assert_eq!(kind("over-limit").bytes.len(), LIMIT_BYTES + 1);
        assert!(kind("over-limit").bytes.ends_with(&[0xFF, 0xD9]));
        assert!(kind("empty").bytes.is_empty());
        // The bombs are small but valid PNGs, with the plain image readable.
        let bomb = &kind("png-iccp-bomb").bytes;
        assert!(bomb.len() < 1024 * 1024, "{}", bomb.len());
        let decoded = image::load_from_memory(&kind("png-concatenated").bytes).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (120, 120));
        let decoded = image::load_from_memory(&kind("jpeg-app-bomb").bytes).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (120, 120));
        assert!(kind("jpeg-app-bomb").bytes.len() > 13_000_000);
        let header = &kind("jpeg-huge-dimensions").bytes;
        let reader =
            image::ImageReader::with_format(std::io::Cursor::new(header), image::ImageFormat::Jpeg);
        assert_eq!(reader.into_dimensions().unwrap(), (65_500, 65_500));
        // The ZIP after the JPEG is a ZIP too.
        let zip_bytes = kind("jpeg-zip-polyglot").bytes.clone();
        let archive = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes)).unwrap();
        assert_eq!(archive.len(), 1);
    }
}
