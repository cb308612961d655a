//! What argus-twin computes from the pixels itself: format by magic bytes, decoding,
//! dimensions, SHA-256, and the `ImageProperties` of DetectLabels (quality and dominant
//! colours).
//!
//! Rekognition accepts JPEG and PNG only and needs at least 80 pixels in each dimension:
//! <https://docs.aws.amazon.com/rekognition/latest/dg/limits.html>. Image properties:
//! <https://docs.aws.amazon.com/rekognition/latest/dg/labels-detect-labels-image.html>.

use std::collections::HashMap;

use image::{DynamicImage, GenericImageView, ImageFormat as CrateFormat};
use sha2::{Digest, Sha256};

use crate::colors::{nearest_css_color, simplified_color};
use crate::error::ApiError;
use crate::model::{DetectLabelsImageQuality, DominantColor};

/// Smallest accepted width and height, in pixels.
pub const MIN_DIMENSION_PX: u32 = 80;

/// Most dominant colours kept per image (the API's `MaxDominantColors` upper bound).
pub const MAX_DOMINANT_COLORS: usize = 20;

/// Longest side of the thumbnail the image properties are computed on, in pixels.
const PROPERTIES_THUMBNAIL_PX: u32 = 256;

/// The two formats Rekognition accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ImageFormat {
    /// Starts with `FF D8 FF`.
    Jpeg,
    /// Starts with `89 50 4E 47 0D 0A 1A 0A`.
    Png,
}

/// The format by magic bytes, or `None` for anything else (GIF, WebP, text, ...).
pub fn sniff_format(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageFormat::Png)
    } else {
        None
    }
}

/// Lowercase hex SHA-256 of `bytes` (what `sha256sum` prints).
pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// What argus-twin knows about an image after decoding it.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageFacts {
    /// Lowercase hex SHA-256 of the file bytes: the fixture key.
    pub sha256: String,
    /// JPEG or PNG.
    pub format: ImageFormat,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// Whole-image quality, 0..100 each.
    pub quality: DetectLabelsImageQuality,
    /// Up to [`MAX_DOMINANT_COLORS`] colours, most common first.
    pub dominant_colors: Vec<DominantColor>,
}

/// Checks and decodes an image file: format by magic bytes, full decode (a truncated file
/// fails), dimensions, then the image properties.
///
/// Errors: `InvalidImageFormatException` when the content is not JPEG/PNG or does not decode;
/// `InvalidParameterException` when a side is under [`MIN_DIMENSION_PX`].
pub fn inspect(bytes: &[u8]) -> Result<ImageFacts, ApiError> {
    inspect_with_sha256(bytes, sha256_hex(bytes))
}

/// Bytes one decode may allocate, pixels and metadata chunks included: 256 MiB (a 15 MB file
/// holds no honest image that needs more; the image crate's own default is 512 MiB).
pub const MAX_DECODER_ALLOC: u64 = 256 * 1024 * 1024;

/// Largest width and height, in pixels, a decoded image may declare.
pub const MAX_SIDE_PX: u32 = 16_384;

/// The limits every decode of a request's image runs with: [`MAX_DECODER_ALLOC`] and
/// [`MAX_SIDE_PX`], so a metadata bomb or a header claiming huge dimensions is answered with
/// `InvalidImageFormatException` instead of exhausting memory.
pub fn decoder_limits() -> image::Limits {
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_DECODER_ALLOC);
    limits.max_image_width = Some(MAX_SIDE_PX);
    limits.max_image_height = Some(MAX_SIDE_PX);
    limits
}

/// [`inspect`] for a caller that already has the SHA-256 (lowercase hex) of `bytes`.
///
/// Errors: as [`inspect`].
pub fn inspect_with_sha256(bytes: &[u8], sha256: String) -> Result<ImageFacts, ApiError> {
    decode_with_sha256(bytes, sha256).map(|(facts, _)| facts)
}

/// [`inspect_with_sha256`] that also keeps the pixels for the models: 8-bit RGB, transparent
/// pixels composited over white (as the image properties are), `width × height × 3` bytes.
///
/// Errors: as [`inspect`].
pub fn decode_with_sha256(
    bytes: &[u8],
    sha256: String,
) -> Result<(ImageFacts, image::RgbImage), ApiError> {
    let format = sniff_format(bytes).ok_or_else(|| {
        ApiError::invalid_image_format("Request has invalid image format: not a JPEG or PNG")
    })?;
    if format == ImageFormat::Jpeg && !jpeg_has_end_marker(bytes) {
        return Err(ApiError::invalid_image_format(
            "Request has invalid image format: the JPEG data is truncated (no end-of-image marker)",
        ));
    }
    let crate_format = match format {
        ImageFormat::Jpeg => CrateFormat::Jpeg,
        ImageFormat::Png => CrateFormat::Png,
    };
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), crate_format);
    reader.limits(decoder_limits());
    let decoded = reader.decode().map_err(|e| {
        ApiError::invalid_image_format(format!(
            "Request has invalid image format: the image cannot be decoded ({e})"
        ))
    })?;
    let (width, height) = decoded.dimensions();
    if width < MIN_DIMENSION_PX || height < MIN_DIMENSION_PX {
        return Err(ApiError::invalid_parameter(format!(
            "Request has invalid parameters: the image is {width}x{height} px; \
             the minimum is {MIN_DIMENSION_PX}x{MIN_DIMENSION_PX} px"
        )));
    }
    let (quality, dominant_colors) = image_properties(&decoded);
    let facts = ImageFacts {
        sha256,
        format,
        width,
        height,
        quality,
        dominant_colors,
    };
    Ok((facts, rgb_over_white(decoded)))
}

/// 8-bit RGB, transparent pixels composited over white; no copy for 8-bit RGB input.
fn rgb_over_white(image: DynamicImage) -> image::RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = image.into_rgba8();
    let (w, h) = rgba.dimensions();
    image::RgbImage::from_fn(w, h, |x, y| {
        let image::Rgba([r, g, b, a]) = *rgba.get_pixel(x, y);
        let a = u16::from(a);
        let over = |c: u8| ((u16::from(c) * a + 255 * (255 - a)) / 255) as u8;
        image::Rgb([over(r), over(g), over(b)])
    })
}

/// Whether the JPEG has its end-of-image marker (`FF D9`) after its last start-of-scan marker
/// (`FF DA`).
///
/// The JPEG decoder fills missing scan data with grey instead of failing, so truncation is
/// checked on the file structure. Inside entropy-coded data `FF` is always followed by `00`
/// or a restart marker, so neither marker can appear there by chance; markers inside an
/// embedded EXIF thumbnail come before the main image's scans.
fn jpeg_has_end_marker(bytes: &[u8]) -> bool {
    let find_last = |marker: [u8; 2]| bytes.windows(2).rposition(|w| w == marker);
    match (find_last([0xFF, 0xDA]), find_last([0xFF, 0xD9])) {
        (Some(sos), Some(eoi)) => eoi > sos,
        _ => false,
    }
}

/// Quality and dominant colours of a decoded image, computed on a thumbnail of at most
/// 256 px a side (transparent pixels are composited over white).
///
/// - Brightness: mean Rec. 709 luma x 100.
/// - Contrast: standard deviation of luma x 200 (a black/white split gives 100).
/// - Sharpness: mean absolute 4-neighbour Laplacian of luma, mapped by `100 (1 - e^(-x/0.04))`.
/// - Dominant colours: 4 levels per channel (64 bins); each bin's mean colour, its share of
///   pixels, nearest CSS name and simplified name; bins under 0.5 % are dropped.
pub fn image_properties(image: &DynamicImage) -> (DetectLabelsImageQuality, Vec<DominantColor>) {
    let thumb = if image.width().max(image.height()) > PROPERTIES_THUMBNAIL_PX {
        image
            .thumbnail(PROPERTIES_THUMBNAIL_PX, PROPERTIES_THUMBNAIL_PX)
            .to_rgba8()
    } else {
        image.to_rgba8()
    };
    let (w, h) = thumb.dimensions();
    let n = (w as usize) * (h as usize);
    if n == 0 {
        let quality = DetectLabelsImageQuality {
            brightness: 0.0,
            sharpness: 0.0,
            contrast: 0.0,
        };
        return (quality, Vec::new());
    }
    let mut luma = Vec::with_capacity(n);
    // bin -> (count, sum r, sum g, sum b)
    let mut bins: HashMap<u8, (u64, u64, u64, u64)> = HashMap::new();
    for pixel in thumb.pixels() {
        let [r, g, b, a] = pixel.0;
        let alpha = f32::from(a) / 255.0;
        let over_white = |c: u8| f32::from(c) * alpha + 255.0 * (1.0 - alpha);
        let (rf, gf, bf) = (over_white(r), over_white(g), over_white(b));
        luma.push((0.2126 * rf + 0.7152 * gf + 0.0722 * bf) / 255.0);
        let (r8, g8, b8) = (rf.round() as u8, gf.round() as u8, bf.round() as u8);
        let bin = ((r8 >> 6) << 4) | ((g8 >> 6) << 2) | (b8 >> 6);
        let entry = bins.entry(bin).or_insert((0, 0, 0, 0));
        entry.0 += 1;
        entry.1 += u64::from(r8);
        entry.2 += u64::from(g8);
        entry.3 += u64::from(b8);
    }
    let count = n as f32;
    let mean = luma.iter().sum::<f32>() / count;
    let variance = luma.iter().map(|y| (y - mean).powi(2)).sum::<f32>() / count;
    let mut laplacian_sum = 0.0f32;
    let mut laplacian_n = 0u32;
    if w >= 3 && h >= 3 {
        let at = |x: u32, y: u32| luma[(y * w + x) as usize];
        for y in 1..h - 1 {
            for x in 1..w - 1 {
                let lap =
                    4.0 * at(x, y) - at(x - 1, y) - at(x + 1, y) - at(x, y - 1) - at(x, y + 1);
                laplacian_sum += lap.abs();
                laplacian_n += 1;
            }
        }
    }
    let mean_laplacian = if laplacian_n > 0 {
        laplacian_sum / laplacian_n as f32
    } else {
        0.0
    };
    let quality = DetectLabelsImageQuality {
        brightness: round2(100.0 * mean),
        sharpness: round2(100.0 * (1.0 - (-mean_laplacian / 0.04).exp())),
        contrast: round2((200.0 * variance.sqrt()).min(100.0)),
    };

    let mut sorted: Vec<(u8, (u64, u64, u64, u64))> = bins.into_iter().collect();
    sorted.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
    let colors = sorted
        .into_iter()
        .filter(|(_, (c, ..))| (*c as f32) / count >= 0.005)
        .take(MAX_DOMINANT_COLORS)
        .map(|(_, (c, r, g, b))| {
            let rgb = [(r / c) as u8, (g / c) as u8, (b / c) as u8];
            DominantColor {
                red: rgb[0],
                blue: rgb[2],
                green: rgb[1],
                hex_code: format!("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2]),
                css_color: nearest_css_color(rgb).to_owned(),
                simplified_color: simplified_color(rgb).to_owned(),
                pixel_percent: round2(100.0 * c as f32 / count),
            }
        })
        .collect();
    (quality, colors)
}

fn round2(v: f32) -> f32 {
    (v * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Rgb};

    fn png_of(img: &DynamicImage) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, CrateFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn magic_bytes_decide_the_format() {
        assert_eq!(
            sniff_format(b"\xFF\xD8\xFF\xE0rest"),
            Some(ImageFormat::Jpeg)
        );
        assert_eq!(
            sniff_format(b"\x89PNG\r\n\x1a\nrest"),
            Some(ImageFormat::Png)
        );
        assert_eq!(sniff_format(b"GIF89a"), None);
        assert_eq!(sniff_format(b""), None);
    }

    #[test]
    fn flat_image_has_no_contrast_and_one_colour() {
        let img = DynamicImage::ImageRgb8(ImageBuffer::from_pixel(100, 100, Rgb([200, 30, 30])));
        let facts = inspect(&png_of(&img)).unwrap();
        assert_eq!((facts.width, facts.height), (100, 100));
        assert_eq!(facts.quality.contrast, 0.0);
        assert_eq!(facts.quality.sharpness, 0.0);
        assert_eq!(facts.dominant_colors.len(), 1);
        assert_eq!(facts.dominant_colors[0].pixel_percent, 100.0);
        assert_eq!(facts.dominant_colors[0].simplified_color, "red");
        assert_eq!(facts.dominant_colors[0].hex_code, "#c81e1e");
    }

    #[test]
    fn checkerboard_is_sharp_and_contrasted() {
        let img = DynamicImage::ImageRgb8(ImageBuffer::from_fn(128, 128, |x, y| {
            if (x + y) % 2 == 0 {
                Rgb([0, 0, 0])
            } else {
                Rgb([255, 255, 255])
            }
        }));
        let facts = inspect(&png_of(&img)).unwrap();
        assert!(facts.quality.contrast > 99.0, "{:?}", facts.quality);
        assert!(facts.quality.sharpness > 99.0, "{:?}", facts.quality);
        assert!((facts.quality.brightness - 50.0).abs() < 1.0);
    }

    #[test]
    fn small_images_are_refused() {
        let img = DynamicImage::ImageRgb8(ImageBuffer::from_pixel(79, 200, Rgb([1, 2, 3])));
        let err = inspect(&png_of(&img)).unwrap_err();
        assert_eq!(err.code, crate::error::ErrorCode::InvalidParameterException);
    }

    #[test]
    fn jpeg_end_marker_must_follow_the_last_scan() {
        assert!(jpeg_has_end_marker(b"\xFF\xD8\xFF\xDA..\xFF\xD9"));
        assert!(jpeg_has_end_marker(b"\xFF\xD8\xFF\xDA..\xFF\xD9\0\0junk"));
        assert!(!jpeg_has_end_marker(b"\xFF\xD8\xFF\xDA..."));
        // An EXIF thumbnail's EOI before the main scan does not count.
        assert!(!jpeg_has_end_marker(b"\xFF\xD8\xFF\xD9\xFF\xDA..."));
    }
}
