//! Zip archives and the office formats built on them (DOCX, XLSX, PPTX,
//! ODT/ODS), and gzip data, read within limits. An encrypted entry, a suspected zip bomb,
//! a broken archive or a member we cannot read is reported uninspectable.
//! Members are read for what their bytes are, like MIME parts, and count
//! against the message's limits: decompressed bytes, parts and time are
//! budgets of the whole message, so archives nested in archives (or many
//! archives side by side) cannot multiply them.
//!
//! PDF is not read in-process: the maintained Rust text extractors panic on
//! malformed files by design and have no resource bounds, which a mail
//! gateway cannot accept, so a PDF is uninspectable (not clean) for policy.

use std::io::{Cursor, Read};

use memchr::memmem::Finder;

use super::{Hint, Profile, Source, Walker};

/// Bounds on archive work.
#[derive(Debug, Clone)]
pub struct ArchiveLimits {
    /// Entries read from one archive.
    pub max_entries: usize,
    /// Uncompressed bytes read from one entry.
    pub max_entry_size: u64,
    /// Uncompressed bytes read from all archives of one message.
    pub max_total: u64,
    /// Largest uncompressed/compressed ratio accepted for an entry.
    pub max_ratio: u64,
    /// Archives inside archives.
    pub max_depth: usize,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_entries: 2000,
            max_entry_size: 32 << 20,
            max_total: 64 << 20,
            max_ratio: 200,
            max_depth: 3,
        }
    }
}

/// What kind of zip container a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// A plain zip archive.
    Zip,
    /// Word processing document (DOCX, ODT).
    Document,
    /// Spreadsheet (XLSX, ODS).
    Spreadsheet,
    /// Presentation (PPTX, ODP).
    Presentation,
}

/// The container a zip is labelled as, by extension or content type; `None`
/// when the label says nothing (the entries decide).
pub fn kind_hint(ctype: &str, ext: &str) -> Option<Container> {
    Some(match (ctype, ext) {
        (_, "docx" | "docm" | "dotx" | "odt") => Container::Document,
        (_, "xlsx" | "xlsm" | "xltx" | "ods") => Container::Spreadsheet,
        (_, "pptx" | "pptm" | "odp") => Container::Presentation,
        (t, _) if t.contains("wordprocessingml") || t.contains("opendocument.text") => {
            Container::Document
        }
        (t, _) if t.contains("spreadsheetml") || t.contains("opendocument.spreadsheet") => {
            Container::Spreadsheet
        }
        (t, _) if t.contains("presentationml") || t.contains("opendocument.presentation") => {
            Container::Presentation
        }
        (_, "zip") | ("application/zip" | "application/x-zip-compressed", _) => Container::Zip,
        _ => return None,
    })
}

/// The container a zip is, by its entries (OOXML and ODF have telltale ones).
fn kind_of(names: &[String]) -> Container {
    let has = |p: &str| names.iter().any(|n| n.starts_with(p));
    if has("word/") {
        Container::Document
    } else if has("xl/") {
        Container::Spreadsheet
    } else if has("ppt/") {
        Container::Presentation
    } else if names.iter().any(|n| n == "content.xml") && has("mimetype") {
        Container::Document
    } else {
        Container::Zip
    }
}

/// Whether one more archive would nest deeper than the limit (then the
/// part is reported uninspectable).
fn too_deep(w: &mut Walker<'_, '_>, path: &str, filename: Option<&str>) -> bool {
    let max = w.limits.archives.max_depth;
    if w.archive_depth < max {
        return false;
    }
    let reason = format!("archives nested deeper than {max}");
    w.sink.uninspectable(path, filename, reason);
    true
}

/// Reads a zip container's text into the walker.
pub(super) fn read(
    w: &mut Walker<'_, '_>,
    kind: Option<Container>,
    bytes: &[u8],
    path: &str,
    filename: Option<&str>,
    depth: usize,
) {
    if too_deep(w, path, filename) {
        return;
    }
    let limits = &w.limits.archives;
    let mut zip = match zip::ZipArchive::new(Cursor::new(bytes)) {
        Ok(z) => z,
        Err(e) => {
            return w.sink.uninspectable(
                path,
                filename,
                format!("not a readable zip container ({e})"),
            );
        }
    };
    if zip.len() > limits.max_entries {
        return w.sink.uninspectable(
            path,
            filename,
            format!("more than {} entries", limits.max_entries),
        );
    }
    // Names by entry index; a name that is not UTF-8 is read lossily, never
    // skipped (its entry is still read).
    let names: Vec<String> = zip
        .file_names_raw()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    let kind = kind.unwrap_or_else(|| kind_of(&names));
    w.archive_depth += 1;
    let mut m = Members { zip: &mut zip };
    match kind {
        Container::Zip => m.plain(w, &names, path, filename, depth),
        Container::Document | Container::Presentation => m.office_text(w, &names, path, filename),
        Container::Spreadsheet => m.spreadsheet(w, &names, path, filename),
    }
    w.archive_depth -= 1;
}

/// Reads gzip data (an attachment `.csv.gz`, a `.gz` log or export):
/// one or more gzip members, inflated within the limits of an archive
/// entry, then read for what the bytes are, as `path.1`. Broken data, a
/// suspected bomb or more than the message may still inflate is
/// uninspectable. (bzip2, xz, zstd, 7z and rar are not opened: each
/// would be a decoder more for formats mail rarely carries.)
pub(super) fn gunzip(
    w: &mut Walker<'_, '_>,
    bytes: &[u8],
    path: &str,
    filename: Option<&str>,
    depth: usize,
) {
    if too_deep(w, path, filename) {
        return;
    }
    let limits = &w.limits.archives;
    let by_ratio = (bytes.len() as u64).saturating_mul(limits.max_ratio);
    let cap = limits.max_entry_size.min(w.decompressed_left).min(by_ratio);
    let mut out = Vec::new();
    let read = flate2::read::MultiGzDecoder::new(bytes)
        .take(cap + 1)
        .read_to_end(&mut out);
    if let Err(e) = read {
        return w
            .sink
            .uninspectable(path, filename, format!("corrupt gzip data ({e})"));
    }
    if out.len() as u64 > cap {
        let reason = if cap == by_ratio {
            format!(
                "compression ratio over {}:1 (bomb suspected)",
                limits.max_ratio
            )
        } else {
            "larger than the inspection limit".to_string()
        };
        return w.sink.uninspectable(path, filename, reason);
    }
    w.decompressed_left -= out.len() as u64;
    // The inner file's name: the outer one without `.gz`.
    let inner = filename.map(|f| {
        let cut = |n: usize| f.get(..f.len() - n).unwrap_or(f);
        let lower = f.to_ascii_lowercase();
        if lower.ends_with(".tgz") {
            format!("{}.tar", cut(4))
        } else if lower.ends_with(".gzip") {
            cut(5).to_string()
        } else if lower.ends_with(".gz") {
            cut(3).to_string()
        } else {
            f.to_string()
        }
    });
    let ext = inner
        .as_deref()
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let hint = Hint {
        ctype: "",
        ext,
        charset: None,
        flowed: false,
    };
    let member = format!("{path}.1");
    if !w.count_leaf(&member) {
        return;
    }
    w.archive_depth += 1;
    w.content(&out, &hint, &member, inner.as_deref(), depth);
    w.archive_depth -= 1;
}

struct Members<'z, 'b> {
    zip: &'z mut zip::ZipArchive<Cursor<&'b [u8]>>,
}

impl Members<'_, '_> {
    /// Reads entry `name` within the limits (the entry's and the message's),
    /// or says why not.
    fn entry(&mut self, w: &mut Walker<'_, '_>, idx: usize) -> Result<Vec<u8>, String> {
        let limits = &w.limits.archives;
        let meta = self
            .zip
            .by_index_raw(idx)
            .map_err(|e| format!("unreadable entry ({e})"))?;
        if meta.encrypted() {
            return Err("encrypted (password-protected) entry".into());
        }
        let (size, packed) = (meta.size(), meta.compressed_size().max(1));
        drop(meta);
        if size > limits.max_entry_size || size > w.decompressed_left {
            return Err("larger than the inspection limit".into());
        }
        if size / packed > limits.max_ratio {
            return Err(format!(
                "compression ratio over {}:1 (zip bomb suspected)",
                limits.max_ratio
            ));
        }
        let file = self
            .zip
            .by_index(idx)
            .map_err(|e| format!("unreadable entry ({e})"))?;
        let mut buf = Vec::with_capacity(size as usize);
        // The declared size may lie: never read past it.
        file.take(size + 1)
            .read_to_end(&mut buf)
            .map_err(|e| format!("corrupt entry ({e})"))?;
        if buf.len() as u64 > size {
            return Err("entry larger than declared (zip bomb suspected)".into());
        }
        w.decompressed_left -= buf.len() as u64;
        Ok(buf)
    }

    fn plain(
        &mut self,
        w: &mut Walker<'_, '_>,
        names: &[String],
        path: &str,
        filename: Option<&str>,
        depth: usize,
    ) {
        for (i, name) in names.iter().enumerate() {
            if name.ends_with('/') {
                continue;
            }
            let member_path = format!("{path}.{}", i + 1);
            if w.sink.out_of_time(&member_path) || !w.count_leaf(&member_path) {
                return;
            }
            let shown = format!("{}/{}", filename.unwrap_or("archive"), name);
            w.sink.push(
                Source::Filename {
                    path: member_path.clone(),
                },
                // Directories in an entry's path are words too.
                &super::filename_words(name).replace(['/', '\\'], " "),
                Profile::Full,
            );
            let bytes = match self.entry(w, i) {
                Ok(b) => b,
                Err(reason) => {
                    w.sink.uninspectable(&member_path, Some(&shown), reason);
                    continue;
                }
            };
            let ext = name
                .rsplit_once('.')
                .map(|(_, e)| e.to_ascii_lowercase())
                .unwrap_or_default();
            let hint = Hint {
                ctype: "",
                ext,
                charset: None,
                flowed: false,
            };
            w.content(&bytes, &hint, &member_path, Some(&shown), depth);
        }
    }

    /// DOCX/PPTX/ODT: the text of the document parts.
    fn office_text(
        &mut self,
        w: &mut Walker<'_, '_>,
        names: &[String],
        path: &str,
        filename: Option<&str>,
    ) {
        let wanted: Vec<usize> = names
            .iter()
            .enumerate()
            .filter(|(_, n)| {
                *n == "content.xml"
                    || *n == "styles.xml"
                    || (n.starts_with("word/")
                        && n.ends_with(".xml")
                        && !n.contains("/_rels/")
                        && !n.contains("theme")
                        && !n.contains("fontTable")
                        && !n.contains("styles")
                        && !n.contains("settings"))
                    || (n.starts_with("ppt/slides/slide") && n.ends_with(".xml"))
                    || (n.starts_with("ppt/notesSlides/") && n.ends_with(".xml"))
                    || n.starts_with("docProps/") && n.ends_with(".xml")
            })
            .map(|(i, _)| i)
            .collect();
        if wanted.is_empty() {
            return w.sink.uninspectable(
                path,
                filename,
                "office document without readable text parts",
            );
        }
        let mut text = String::new();
        for idx in wanted {
            if w.sink.out_of_time(path) {
                return;
            }
            match self.entry(w, idx) {
                Ok(b) => text.push_str(&xml_text(&super::decode::lossy(&b))),
                Err(reason) => return w.sink.uninspectable(path, filename, reason),
            }
            text.push('\n');
        }
        w.sink.push(
            Source::Part {
                path: path.to_string(),
                filename: filename.map(str::to_owned),
            },
            &text,
            Profile::Full,
        );
    }

    /// XLSX: each sheet rebuilt as rows of cells (shared strings resolved)
    /// and labelled by its header row like any table. ODS: content.xml rows.
    fn spreadsheet(
        &mut self,
        w: &mut Walker<'_, '_>,
        names: &[String],
        path: &str,
        filename: Option<&str>,
    ) {
        if names.iter().any(|n| n == "content.xml") {
            return self.office_text(w, names, path, filename);
        }
        let shared = match names.iter().position(|n| n == "xl/sharedStrings.xml") {
            Some(n) => match self.entry(w, n) {
                Ok(b) => shared_strings(&super::decode::lossy(&b)),
                Err(reason) => return w.sink.uninspectable(path, filename, reason),
            },
            None => Vec::new(),
        };
        let sheets: Vec<usize> = names
            .iter()
            .enumerate()
            .filter(|(_, n)| n.starts_with("xl/worksheets/sheet") && n.ends_with(".xml"))
            .map(|(i, _)| i)
            .collect();
        if sheets.is_empty() {
            return w
                .sink
                .uninspectable(path, filename, "spreadsheet without worksheets");
        }
        for (i, &idx) in sheets.iter().enumerate() {
            if w.sink.out_of_time(path) {
                return;
            }
            match self.entry(w, idx) {
                Ok(b) => {
                    let rows = sheet_rows(&super::decode::lossy(&b), &shared);
                    w.sink.push_table(
                        Source::Part {
                            path: format!("{path}.{}", i + 1),
                            filename: filename.map(str::to_owned),
                        },
                        &rows,
                    );
                }
                Err(reason) => return w.sink.uninspectable(path, filename, reason),
            }
        }
    }
}

/// Element boundaries that end a line (paragraphs, rows) or a cell.
const LINE_ENDS: &[&str] = &[
    "w:p",
    "a:p",
    "text:p",
    "text:h",
    "table:table-row",
    "w:tr",
    "w:br",
    "row",
];
const CELL_ENDS: &[&str] = &["w:tc", "table:table-cell", "a:tc", "w:tab", "text:tab"];

/// Text content of an XML document; line and cell boundaries kept.
pub fn xml_text(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len() / 3);
    let mut rest = xml;
    while let Some(lt) = rest.find('<') {
        push_decoded(&mut out, &rest[..lt]);
        let Some(gt) = rest[lt..].find('>') else {
            break;
        };
        let tag = &rest[lt + 1..lt + gt];
        let name = tag
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or("");
        let closing_or_empty = tag.starts_with('/') || tag.ends_with('/');
        if closing_or_empty && LINE_ENDS.contains(&name) {
            out.push('\n');
        } else if closing_or_empty && CELL_ENDS.contains(&name) {
            out.push_str(" \t ");
        }
        rest = &rest[lt + gt + 1..];
    }
    push_decoded(&mut out, rest);
    out
}

fn push_decoded(out: &mut String, s: &str) {
    if !s.contains('&') {
        out.push_str(s);
        return;
    }
    out.push_str(&super::html::to_text(s));
}

fn shared_strings(xml: &str) -> Vec<String> {
    xml.split("<si>")
        .skip(1)
        .map(|si| {
            xml_text(si.split("</si>").next().unwrap_or(""))
                .trim()
                .to_string()
        })
        .collect()
}

/// Rows of a worksheet as tab-separated lines (tabs inside cells become
/// blanks), written straight into one string.
fn sheet_rows(xml: &str, shared: &[String]) -> String {
    // The searchers are built once per sheet: a sheet has as many cells
    // as a spreadsheet can hold, and building a substring searcher for
    // each cell's few lookups cost more than the lookups.
    let f = Finders {
        row: Finder::new("<row"),
        row_end: Finder::new("</row>"),
        cell: Finder::new("<c "),
        shared: Finder::new("t=\"s\""),
        v: Finder::new("<v>"),
        v_end: Finder::new("</v>"),
        t: Finder::new("<t"),
        t_end: Finder::new("</t>"),
    };
    let mut out = String::with_capacity(xml.len() / 4);
    let push_cell = |out: &mut String, v: &str| {
        if v.contains('\t') {
            out.push_str(&v.replace('\t', " "));
        } else {
            out.push_str(v);
        }
    };
    for row in after_each(xml, &f.row) {
        let row = f.row_end.find(row.as_bytes()).map_or(row, |e| &row[..e]);
        for (i, cell) in after_each(row, &f.cell).enumerate() {
            if i > 0 {
                out.push('\t');
            }
            let head = cell.find('>').map_or(cell, |e| &cell[..e]);
            let shared_ref = f.shared.find(head.as_bytes()).is_some();
            if let Some(v) = between(cell, &f.v, &f.v_end) {
                if shared_ref {
                    if let Some(s) = v.parse::<usize>().ok().and_then(|i| shared.get(i)) {
                        push_cell(&mut out, s);
                    }
                } else {
                    push_cell(&mut out, v);
                }
            } else if let Some(t) = between(cell, &f.t, &f.t_end)
                && let Some((_, t)) = t.split_once('>')
            {
                push_cell(&mut out, t);
            }
        }
        out.push('\n');
    }
    out
}

/// The substring searchers of [`sheet_rows`].
struct Finders {
    row: Finder<'static>,
    row_end: Finder<'static>,
    cell: Finder<'static>,
    shared: Finder<'static>,
    v: Finder<'static>,
    v_end: Finder<'static>,
    t: Finder<'static>,
    t_end: Finder<'static>,
}

/// What follows each occurrence of the needle, up to the next one (as
/// `s.split(needle).skip(1)`).
fn after_each<'a>(s: &'a str, f: &'a Finder<'static>) -> impl Iterator<Item = &'a str> + 'a {
    let n = f.needle().len();
    let mut at = f.find(s.as_bytes());
    std::iter::from_fn(move || {
        let start = at? + n;
        let next = f.find(&s.as_bytes()[start..]).map(|e| start + e);
        at = next;
        Some(&s[start..next.unwrap_or(s.len())])
    })
}

fn between<'a>(s: &'a str, a: &Finder<'_>, b: &Finder<'_>) -> Option<&'a str> {
    let start = a.find(s.as_bytes())? + a.needle().len();
    let end = b.find(&s.as_bytes()[start..])? + start;
    Some(&s[start..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{Extracted, Limits, extract};
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    pub(crate) fn make_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut buf = Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut buf);
        for (name, data) in entries {
            w.start_file(*name, SimpleFileOptions::default()).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
        buf.into_inner()
    }

    /// A message with `bytes` attached as `name`, base64.
    fn run_named(name: &str, bytes: &[u8]) -> Extracted {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
        let raw = format!(
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename={name}\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--b--\r\n"
        );
        extract(raw.as_bytes(), &Limits::default())
    }

    fn run(bytes: &[u8]) -> Extracted {
        run_named("a.zip", bytes)
    }

    #[test]
    fn zip_members_are_read_and_nested_zips_too() {
        let inner = make_zip(&[("deep.txt", b"SSN 135-14-4832")]);
        let z = make_zip(&[
            ("notes.txt", b"hello"),
            ("list.csv", b"patient,dob\nAnn Lee,1/2/1960\n"),
            ("inner.zip", &inner),
        ]);
        let out = run(&z);
        let all: String = out
            .segments
            .iter()
            .map(|s| out.text_of(s).to_string())
            .collect::<Vec<_>>()
            .join("\n");
        assert!(all.contains("hello"));
        // The CSV member is a table: scanned as written, labels by column.
        assert!(all.contains("Ann Lee,1/2/1960"), "{all}");
        assert!(out.segments.iter().any(|s| s.table));
        assert!(all.contains("SSN 135-14-4832"));
        assert!(out.uninspectable.is_empty(), "{:?}", out.uninspectable);
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_is_read_for_what_it_holds() {
        let out = run_named("labs.csv.gz", &gz(b"patient,dob\nAnn Lee,1/2/1960\n"));
        assert!(out.uninspectable.is_empty(), "{:?}", out.uninspectable);
        // Read as the CSV it holds: a table, named without the `.gz`.
        let table = out.segments.iter().find(|s| s.table).expect("a table");
        assert!(out.text_of(table).contains("Ann Lee,1/2/1960"));
        // Inside a zip, and a zip inside it.
        let z = make_zip(&[("a.txt", b"SSN 135-14-4832")]);
        let out = run_named("x.zip.gz", &gz(&z));
        let all: String = out.segments.iter().map(|s| out.text_of(s)).collect();
        assert!(all.contains("135-14-4832"), "{all}");
    }

    #[test]
    fn archives_nested_past_the_limit_are_uninspectable() {
        // Three levels are read; a fourth, zip or gzip, is not.
        let mut z = make_zip(&[("a.txt", b"SSN 135-14-4832")]);
        for level in 0..3 {
            z = if level % 2 == 0 {
                gz(&z)
            } else {
                make_zip(&[("in.zip.gz", &z)])
            };
        }
        let out = run_named("x.zip.gz", &z);
        assert_eq!(out.uninspectable.len(), 1, "{:?}", out.uninspectable);
        assert!(out.uninspectable[0].reason.contains("nested deeper than 3"));
        let out = run_named("x.zip.gz", &gz(&make_zip(&[("a.txt", b"SSN 135-14-4832")])));
        assert!(out.uninspectable.is_empty(), "{:?}", out.uninspectable);
    }

    #[test]
    fn broken_or_bombed_gzip_is_uninspectable() {
        let bomb = gz(&vec![0u8; 8 << 20]);
        let out = run_named("big.txt.gz", &bomb);
        assert_eq!(out.uninspectable.len(), 1);
        assert!(
            out.uninspectable[0].reason.contains("bomb"),
            "{:?}",
            out.uninspectable
        );
        let mut cut = gz(b"patient,dob\nAnn Lee,1/2/1960\n");
        cut.truncate(cut.len() - 12);
        let out = run_named("labs.csv.gz", &cut);
        assert_eq!(out.uninspectable.len(), 1, "{:?}", out.uninspectable);
        assert!(out.uninspectable[0].reason.contains("gzip"));
        // Other compressors stay unopened: uninspectable, never clean.
        let out = run_named("a.bz2", b"BZh91AY&SY\x00\x00\x00");
        assert_eq!(out.uninspectable.len(), 1);
    }

    #[test]
    fn a_zip_bomb_is_uninspectable() {
        let zeros = vec![0u8; 8 << 20];
        let z = make_zip(&[("bomb.txt", &zeros)]);
        let out = run(&z);
        assert_eq!(out.uninspectable.len(), 1);
        assert!(
            out.uninspectable[0].reason.contains("zip bomb"),
            "{:?}",
            out.uninspectable
        );
    }

    #[test]
    fn an_encrypted_member_is_uninspectable() {
        // A zip whose member carries the "encrypted" flag (general purpose
        // bit 0) in its local and central headers, as a password-protected
        // archive does.
        let mut z = make_zip(&[("records.csv", b"patient,dob\nAnn Lee,1/2/1960\n")]);
        for sig_flags in [(&b"PK\x03\x04"[..], 6), (&b"PK\x01\x02"[..], 8)] {
            let at = z.windows(4).position(|w| w == sig_flags.0).unwrap();
            z[at + sig_flags.1] |= 1;
        }
        let out = run(&z);
        assert_eq!(out.uninspectable.len(), 1);
        assert!(
            out.uninspectable[0].reason.contains("encrypted"),
            "{:?}",
            out.uninspectable
        );
        assert!(!out.text.contains("Ann Lee"));
    }

    #[test]
    fn broken_and_pdf_are_uninspectable() {
        assert_eq!(run(b"PK\x03\x04 not really").uninspectable.len(), 1);
        let out = run_named("x.pdf", b"%PDF-1.7");
        assert!(out.uninspectable[0].reason.contains("PDF"));
    }

    #[test]
    fn docx_text_and_xlsx_cells() {
        let doc = make_zip(&[(
            "word/document.xml",
            b"<w:document><w:body><w:p><w:r><w:t>Patient: Ann Lee</w:t></w:r></w:p><w:p><w:r><w:t>DOB: 1/2/1960 &amp; more</w:t></w:r></w:p></w:body></w:document>",
        )]);
        let out = run_named("x.docx", &doc);
        let part = out
            .segments
            .iter()
            .find(|s| matches!(s.source, Source::Part { .. }))
            .unwrap();
        assert_eq!(
            out.text_of(part),
            "Patient: Ann Lee\nDOB: 1/2/1960 & more\n\n"
        );
        let xlsx = make_zip(&[
            ("xl/sharedStrings.xml", b"<sst><si><t>patient</t></si><si><t>dob</t></si><si><t>Ann Lee</t></si></sst>"),
            (
                "xl/worksheets/sheet1.xml",
                b"<worksheet><sheetData><row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"s\"><v>1</v></c></row><row r=\"2\"><c r=\"A2\" t=\"s\"><v>2</v></c><c r=\"B2\" t=\"inlineStr\"><is><t>1/2/1960</t></is></c></row></sheetData></worksheet>",
            ),
        ]);
        // Recognised by its entries, whatever its name.
        let out = run_named("export.bin", &xlsx);
        assert!(
            out.segments
                .iter()
                .any(|s| s.table && out.text_of(s).contains("patient\tdob\nAnn Lee\t1/2/1960")),
            "{:?}",
            out.segments
        );
    }
}
