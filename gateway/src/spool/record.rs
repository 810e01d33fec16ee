//! The on-disk record format of spool segments (see docs/SPOOL.md).
//!
//! ```text
//! segment := MAGIC record*
//! record  := len:u32le crc:u32le kind:u8 payload[len]
//!            crc = CRC-32 (IEEE) over kind and payload
//! message := id:u64le env_len:u32le envelope-json[env_len] message-bytes
//! done    := id:u64le
//! status  := id:u64le status-json          (per-recipient updates)
//! ```

use std::io::{self, Read};

use super::{Envelope, QueueId, StatusUpdate};

/// First bytes of every segment file.
pub const MAGIC: &[u8; 8] = b"PHIGSEG1";
/// Bytes before a record's payload.
pub const HEADER_LEN: usize = 9;
/// A record larger than this is corruption, not a message.
pub const MAX_RECORD: u32 = 1 << 31;

/// Record kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// A message and its envelope.
    Message = 1,
    /// The message with this ID has left the spool.
    Done = 2,
    /// Recipient states of a message changed.
    Status = 3,
}

/// Encodes a message record: envelope, then the message as `parts` (the
/// `Received:` header and the content, kept apart to avoid a copy upstream).
pub fn encode_message(env: &Envelope, parts: &[&[u8]]) -> Vec<u8> {
    let json = serde_json::to_vec(env).expect("an envelope always serialises");
    let body_len: usize = parts.iter().map(|p| p.len()).sum();
    let mut payload = Vec::with_capacity(HEADER_LEN + 12 + json.len() + body_len);
    payload.extend_from_slice(&[0; HEADER_LEN]);
    payload.extend_from_slice(&env.id.as_u64().to_le_bytes());
    payload.extend_from_slice(&(json.len() as u32).to_le_bytes());
    payload.extend_from_slice(&json);
    for p in parts {
        payload.extend_from_slice(p);
    }
    seal(Kind::Message, payload)
}

/// Encodes a status record.
pub fn encode_status(id: QueueId, updates: &[StatusUpdate]) -> Vec<u8> {
    let json = serde_json::to_vec(updates).expect("status updates always serialise");
    let mut payload = Vec::with_capacity(HEADER_LEN + 8 + json.len());
    payload.extend_from_slice(&[0; HEADER_LEN]);
    payload.extend_from_slice(&id.as_u64().to_le_bytes());
    payload.extend_from_slice(&json);
    seal(Kind::Status, payload)
}

/// Encodes a done record.
pub fn encode_done(id: QueueId) -> Vec<u8> {
    let mut payload = vec![0; HEADER_LEN];
    payload.extend_from_slice(&id.as_u64().to_le_bytes());
    seal(Kind::Done, payload)
}

/// Fills in the header of a buffer whose first HEADER_LEN bytes were reserved.
fn seal(kind: Kind, mut buf: Vec<u8>) -> Vec<u8> {
    let len = (buf.len() - HEADER_LEN) as u32;
    buf[8] = kind as u8;
    let mut h = crc32fast::Hasher::new();
    h.update(&buf[8..]);
    let crc = h.finalize();
    buf[0..4].copy_from_slice(&len.to_le_bytes());
    buf[4..8].copy_from_slice(&crc.to_le_bytes());
    buf
}

/// Reads the single record at `offset` of an open segment (for reading a
/// waiting message back by its index entry).
pub fn read_at(file: &std::fs::File, offset: u64) -> io::Result<Record> {
    use std::os::unix::fs::FileExt;
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "spool record damaged");
    let mut header = [0u8; HEADER_LEN];
    file.read_exact_at(&mut header, offset)?;
    let len = u32::from_le_bytes(header[0..4].try_into().expect("4 bytes"));
    let crc = u32::from_le_bytes(header[4..8].try_into().expect("4 bytes"));
    if len > MAX_RECORD {
        return Err(bad());
    }
    let mut payload = vec![0u8; len as usize];
    file.read_exact_at(&mut payload, offset + HEADER_LEN as u64)?;
    let mut h = crc32fast::Hasher::new();
    h.update(&header[8..9]);
    h.update(&payload);
    if h.finalize() != crc {
        return Err(bad());
    }
    decode(header[8], payload).ok_or_else(bad)
}

/// A record read back.
#[derive(Debug, PartialEq, Eq)]
pub enum Record {
    /// A message.
    Message {
        /// Its envelope (boxed: it is most of the enum's size).
        envelope: Box<Envelope>,
        /// The message bytes, `Received:` header included.
        message: Vec<u8>,
    },
    /// A message left the spool.
    Done(QueueId),
    /// Recipient states changed.
    Status(QueueId, Vec<StatusUpdate>),
}

/// Why reading stopped before the end of a segment.
#[derive(Debug, PartialEq, Eq)]
pub enum Stop {
    /// Clean end of file.
    End,
    /// A record cut short or failing its checksum at `offset`: a write that
    /// never completed (its message was never acknowledged) or damage.
    Torn {
        /// Offset of the first bad byte.
        offset: u64,
    },
}

/// Reads records one after another from a segment.
pub struct Reader<R> {
    inner: R,
    offset: u64,
}

impl<R: Read> Reader<R> {
    /// Checks the magic and positions after it.
    pub fn new(mut inner: R) -> io::Result<Self> {
        let mut magic = [0u8; 8];
        inner.read_exact(&mut magic)?;
        if &magic != MAGIC {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "not a phigate spool segment",
            ));
        }
        Ok(Reader { inner, offset: 8 })
    }

    /// The offset just past the last good record.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next record, or why there is none.
    pub fn next_record(&mut self) -> io::Result<Result<Record, Stop>> {
        let torn = Ok(Err(Stop::Torn {
            offset: self.offset,
        }));
        let mut header = [0u8; HEADER_LEN];
        match read_full(&mut self.inner, &mut header)? {
            0 => return Ok(Err(Stop::End)),
            n if n < HEADER_LEN => return torn,
            _ => {}
        }
        let len = u32::from_le_bytes(header[0..4].try_into().expect("4 bytes"));
        let crc = u32::from_le_bytes(header[4..8].try_into().expect("4 bytes"));
        if len > MAX_RECORD {
            return torn;
        }
        let mut payload = vec![0u8; len as usize];
        if read_full(&mut self.inner, &mut payload)? < payload.len() {
            return torn;
        }
        let mut h = crc32fast::Hasher::new();
        h.update(&header[8..9]);
        h.update(&payload);
        if h.finalize() != crc {
            return torn;
        }
        let record = match decode(header[8], payload) {
            Some(r) => r,
            None => return torn,
        };
        self.offset += (HEADER_LEN as u64) + len as u64;
        Ok(Ok(record))
    }
}

fn decode(kind: u8, payload: Vec<u8>) -> Option<Record> {
    let id = QueueId::from_u64(u64::from_le_bytes(payload.get(0..8)?.try_into().ok()?));
    match kind {
        k if k == Kind::Message as u8 => {
            let env_len = u32::from_le_bytes(payload.get(8..12)?.try_into().ok()?) as usize;
            let json = payload.get(12..12 + env_len)?;
            let envelope: Envelope = serde_json::from_slice(json).ok()?;
            if envelope.id != id {
                return None;
            }
            let message = payload[12 + env_len..].to_vec();
            Some(Record::Message {
                envelope: Box::new(envelope),
                message,
            })
        }
        k if k == Kind::Done as u8 => Some(Record::Done(id)),
        k if k == Kind::Status as u8 => {
            let updates = serde_json::from_slice(payload.get(8..)?).ok()?;
            Some(Record::Status(id, updates))
        }
        _ => None,
    }
}

/// Reads until `buf` is full or end of file; returns the count read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(id: u64) -> Envelope {
        Envelope {
            id: QueueId::from_u64(id),
            received_at: 1,
            client_ip: "127.0.0.1".parse().unwrap(),
            helo: "c.example".into(),
            mail_from: "a@b.example".into(),
            rcpt_to: vec!["x@y.example".into()],
            body_type: Default::default(),
            smtputf8: false,
            requiretls: false,
            tls_optional: false,
            tls: None,
            auth_user: None,
            size: 7,
            phi: None,
            categories: Vec::new(),
            decisions: Vec::new(),
        }
    }

    fn segment(records: &[Vec<u8>]) -> Vec<u8> {
        let mut s = MAGIC.to_vec();
        for r in records {
            s.extend_from_slice(r);
        }
        s
    }

    #[test]
    fn round_trip() {
        let seg = segment(&[
            encode_message(&env(5), &[b"Rec\r\n", b"hi\r\n"]),
            encode_done(QueueId::from_u64(5)),
        ]);
        let mut r = Reader::new(&seg[..]).unwrap();
        assert_eq!(
            r.next_record().unwrap(),
            Ok(Record::Message {
                envelope: Box::new(env(5)),
                message: b"Rec\r\nhi\r\n".to_vec()
            })
        );
        assert_eq!(
            r.next_record().unwrap(),
            Ok(Record::Done(QueueId::from_u64(5)))
        );
        assert_eq!(r.next_record().unwrap(), Err(Stop::End));
        assert_eq!(r.offset(), seg.len() as u64);
    }

    #[test]
    fn every_truncation_is_detected_as_torn_at_the_record_start() {
        let first = encode_message(&env(1), &[b"one\r\n"]);
        let second = encode_message(&env(2), &[b"two\r\n"]);
        let seg = segment(&[first.clone(), second]);
        let boundary = (MAGIC.len() + first.len()) as u64;
        for cut in boundary as usize + 1..seg.len() {
            let mut r = Reader::new(&seg[..cut]).unwrap();
            assert!(r.next_record().unwrap().is_ok());
            assert_eq!(
                r.next_record().unwrap(),
                Err(Stop::Torn { offset: boundary }),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn a_flipped_bit_is_detected() {
        let seg = segment(&[encode_message(&env(1), &[b"payload\r\n"])]);
        for i in MAGIC.len()..seg.len() {
            let mut bad = seg.clone();
            bad[i] ^= 0x10;
            let mut r = Reader::new(&bad[..]).unwrap();
            assert!(r.next_record().unwrap().is_err(), "flip at {i}");
        }
    }
}
