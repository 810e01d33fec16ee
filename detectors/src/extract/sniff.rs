//! What a part's bytes are, decided by their content rather than by the
//! label the sender put on them: a CSV of SSNs declared `image/png` is
//! text, and a JPEG declared `text/plain` is an image.
//!
//! Magic numbers come first (they are cheap and hard to fake by accident);
//! then text: bytes that decode as UTF-8 or UTF-16 (with a BOM), or that are
//! almost all printable in a single-byte charset.

/// The kind of content, by its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// Readable text (any charset decision is left to the caller).
    Text,
    /// UTF-16 text with a byte-order mark; `true` for big-endian.
    Utf16 {
        /// Big-endian.
        big_endian: bool,
    },
    /// A zip container (zip, DOCX, XLSX, ODF...).
    Zip,
    /// A PDF document.
    Pdf,
    /// An image, with its pixel size when the header gives it.
    Image {
        /// Which format.
        format: ImageFormat,
        /// Width and height, when known.
        size: Option<(u32, u32)>,
    },
    /// Sound or video (voice mail, recordings): may hold PHI, cannot be read.
    Media,
    /// A font file.
    Font,
    /// Legacy Office (OLE2 compound file: .doc, .xls, .msg).
    Ole,
    /// gzip (read by `archive::gunzip`), and bzip2, xz, zstd, 7z and rar,
    /// which are not opened.
    Compressed,
    /// A CMS / PKCS#7 structure (S/MIME signature or encrypted message).
    Cms,
    /// Anything else.
    Binary,
}

/// Image formats told apart by their magic numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// PNG
    Png,
    /// JPEG
    Jpeg,
    /// GIF
    Gif,
    /// TIFF: the fax and scanner format.
    Tiff,
    /// BMP
    Bmp,
    /// WebP
    Webp,
    /// HEIC / HEIF (phone cameras)
    Heic,
    /// Windows icon
    Ico,
}

impl ImageFormat {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ImageFormat::Png => "PNG",
            ImageFormat::Jpeg => "JPEG",
            ImageFormat::Gif => "GIF",
            ImageFormat::Tiff => "TIFF",
            ImageFormat::Bmp => "BMP",
            ImageFormat::Webp => "WebP",
            ImageFormat::Heic => "HEIC",
            ImageFormat::Ico => "ICO",
        }
    }
}

/// Sniffs `b`.
pub fn sniff(b: &[u8]) -> Sniffed {
    // Byte-order marks first: FF FE would also pass for an MPEG audio frame.
    if b.starts_with(&[0xFF, 0xFE]) {
        return Sniffed::Utf16 { big_endian: false };
    }
    if b.starts_with(&[0xFE, 0xFF]) {
        return Sniffed::Utf16 { big_endian: true };
    }
    if let Some(kind) = magic(b) {
        return kind;
    }
    if looks_like_text(b) {
        Sniffed::Text
    } else {
        Sniffed::Binary
    }
}

fn magic(b: &[u8]) -> Option<Sniffed> {
    let image = |format, size| Some(Sniffed::Image { format, size });
    if b.starts_with(b"PK\x03\x04") || b.starts_with(b"PK\x05\x06") || b.starts_with(b"PK\x07\x08")
    {
        return Some(Sniffed::Zip);
    }
    // A PDF header may follow a little junk (readers accept it within 1 KiB).
    if memchr::memmem::find(&b[..b.len().min(1024)], b"%PDF-").is_some() {
        return Some(Sniffed::Pdf);
    }
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        let size = (b.len() >= 24).then(|| (be32(&b[16..20]), be32(&b[20..24])));
        return image(ImageFormat::Png, size);
    }
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return image(ImageFormat::Jpeg, jpeg_size(b));
    }
    if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        let size = (b.len() >= 10).then(|| (le16(&b[6..8]) as u32, le16(&b[8..10]) as u32));
        return image(ImageFormat::Gif, size);
    }
    if b.starts_with(b"II*\0") || b.starts_with(b"MM\0*") {
        return image(ImageFormat::Tiff, None);
    }
    if b.starts_with(b"BM") && b.len() >= 26 && le32(&b[2..6]) as usize >= 26 {
        let h = (le32(&b[22..26]) as i32).unsigned_abs();
        return image(ImageFormat::Bmp, Some((le32(&b[18..22]), h)));
    }
    if b.len() >= 12 && &b[0..4] == b"RIFF" {
        return match &b[8..12] {
            b"WEBP" => image(ImageFormat::Webp, None),
            b"WAVE" | b"AVI " => Some(Sniffed::Media),
            _ => Some(Sniffed::Binary),
        };
    }
    if b.starts_with(&[0, 0, 1, 0]) && b.len() >= 6 && le16(&b[4..6]) > 0 && le16(&b[4..6]) < 256 {
        return image(ImageFormat::Ico, None);
    }
    // ISO base media (MP4, MOV, HEIC): a box of type `ftyp` at offset 4.
    if b.len() >= 12 && &b[4..8] == b"ftyp" {
        let brand = &b[8..12];
        return if matches!(
            brand,
            b"heic" | b"heix" | b"heim" | b"heis" | b"mif1" | b"msf1" | b"avif"
        ) {
            image(ImageFormat::Heic, None)
        } else {
            Some(Sniffed::Media)
        };
    }
    if b.starts_with(b"ID3")
        || b.starts_with(b"OggS")
        || b.starts_with(b"fLaC")
        || b.starts_with(&[0x1A, 0x45, 0xDF, 0xA3])
        || b.starts_with(b"#!AMR")
        || (b.len() >= 2 && b[0] == 0xFF && b[1] & 0xE0 == 0xE0 && b[1] & 0x06 != 0)
    {
        return Some(Sniffed::Media);
    }
    if b.starts_with(b"wOFF")
        || b.starts_with(b"wOF2")
        || b.starts_with(b"OTTO")
        || b.starts_with(&[0, 1, 0, 0, 0])
    {
        return Some(Sniffed::Font);
    }
    if b.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Some(Sniffed::Ole);
    }
    if b.starts_with(&[0x1F, 0x8B])
        || b.starts_with(b"BZh")
        || b.starts_with(b"7z\xBC\xAF\x27\x1C")
        || b.starts_with(b"Rar!\x1A\x07")
        || b.starts_with(&[0xFD, b'7', b'z', b'X', b'Z', 0])
        || b.starts_with(&[0x28, 0xB5, 0x2F, 0xFD])
    {
        return Some(Sniffed::Compressed);
    }
    // DER SEQUENCE whose first element is the PKCS#7 content-type OID
    // 1.2.840.113549.1.7.x: a CMS / S/MIME structure.
    if b.len() > 16 && b[0] == 0x30 {
        let window = &b[..b.len().min(24)];
        if memchr::memmem::find(
            window,
            &[0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07],
        )
        .is_some()
        {
            return Some(Sniffed::Cms);
        }
    }
    None
}

/// Whether bytes read as text: valid UTF-8 without NULs and few control
/// characters, or single-byte text that is nearly all printable.
pub fn looks_like_text(b: &[u8]) -> bool {
    let sample = &b[..b.len().min(64 * 1024)];
    if sample.contains(&0) {
        return false;
    }
    // Control characters other than the ones text uses (tab, line breaks,
    // form feed, escape), by a table: one load and add a byte.
    const CONTROL: [u8; 256] = {
        let mut t = [0u8; 256];
        let mut c = 0;
        while c < 0x20 {
            t[c] = !matches!(c as u8, b'\t' | b'\n' | b'\r' | 0x0C | 0x1B) as u8;
            c += 1;
        }
        t
    };
    let controls: usize = sample
        .chunks(255)
        .map(|chunk| chunk.iter().fold(0u8, |n, &c| n + CONTROL[c as usize]) as usize)
        .sum();
    if controls * 100 > sample.len() {
        return false;
    }
    if std::str::from_utf8(sample).is_ok() || utf8_cut_at_end(sample) {
        return true;
    }
    // Latin-1 / Windows-1252 text: high bytes are letters, mostly among ASCII.
    let high = sample.iter().filter(|&&c| c >= 0x80).count();
    high * 3 < sample.len()
}

/// Valid UTF-8 except for a character cut off by the sample's end.
fn utf8_cut_at_end(s: &[u8]) -> bool {
    match std::str::from_utf8(s) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && s.len() - e.valid_up_to() < 4,
    }
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}
fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}
fn le16(b: &[u8]) -> u16 {
    u16::from_le_bytes([b[0], b[1]])
}

/// Width and height from a JPEG's first start-of-frame marker.
fn jpeg_size(b: &[u8]) -> Option<(u32, u32)> {
    let mut i = 2;
    // Markers are few; the frame header is within the first few KiB in
    // practice, but walk segment lengths so a long EXIF block is skipped.
    let mut steps = 0;
    while i + 9 < b.len() && steps < 64 {
        steps += 1;
        if b[i] != 0xFF {
            return None;
        }
        let marker = b[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        let len = u16::from_be_bytes([b[i + 2], b[i + 3]]) as usize;
        let sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if sof {
            let h = u16::from_be_bytes([b[i + 5], b[i + 6]]) as u32;
            let w = u16::from_be_bytes([b[i + 7], b[i + 8]]) as u32;
            return Some((w, h));
        }
        if len < 2 {
            return None;
        }
        i += 2 + len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_content_not_label() {
        assert_eq!(sniff(b"patient,ssn\nAnn,135-14-4832\n"), Sniffed::Text);
        assert_eq!(sniff(b"PK\x03\x04rest"), Sniffed::Zip);
        assert_eq!(sniff(b"%PDF-1.7\n"), Sniffed::Pdf);
        assert_eq!(sniff(b"\r\n%PDF-1.4"), Sniffed::Pdf);
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&[0, 0, 2, 0, 0, 0, 1, 0]);
        assert_eq!(
            sniff(&png),
            Sniffed::Image {
                format: ImageFormat::Png,
                size: Some((512, 256))
            }
        );
        assert!(matches!(
            sniff(b"II*\0\x08\0\0\0"),
            Sniffed::Image {
                format: ImageFormat::Tiff,
                ..
            }
        ));
        assert!(matches!(
            sniff(b"\0\0\0\x18ftypheic\0\0\0\0"),
            Sniffed::Image {
                format: ImageFormat::Heic,
                ..
            }
        ));
        assert_eq!(sniff(b"\0\0\0\x18ftypisom\0\0\0\0"), Sniffed::Media);
        assert_eq!(
            sniff(&[0xFF, 0xFE, b'h', 0]),
            Sniffed::Utf16 { big_endian: false }
        );
        assert_eq!(sniff(&[1, 2, 3, 0, 5, 6]), Sniffed::Binary);
        assert_eq!(sniff("Müller, café".as_bytes()), Sniffed::Text);
        assert_eq!(
            sniff(b"M\xfcller, caf\xe9 and more ascii text"),
            Sniffed::Text
        );
    }

    #[test]
    fn jpeg_frame_size() {
        let mut j = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0];
        j.extend_from_slice(&[0xFF, 0xC0, 0, 11, 8, 0x04, 0xB0, 0x03, 0x20, 3, 0, 0]);
        assert_eq!(jpeg_size(&j), Some((800, 1200)));
    }
}
