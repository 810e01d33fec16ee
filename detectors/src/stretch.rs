//! The stretches of a text around its digits.
//!
//! Every built-in finding has a digit in it (a number, a code, a date), so
//! the two passes over a message's text, the pattern set and the context
//! words, need only read the text within reach of a digit. Prose with few
//! numbers is then mostly skipped; text full of numbers is one stretch.

use std::ops::Range;

/// The ranges of `text` that reach `before` bytes before a digit and
/// `after` bytes after one, merged where they touch, in order, on char
/// boundaries.
pub fn around_digits(text: &str, before: usize, after: usize) -> Vec<Range<usize>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(first) = first_digit(&b[from..]).map(|i| from + i) {
        // The stretch goes on while another digit is close enough that
        // the two reaches touch; each step looks at the whole reach.
        let mut last = first;
        loop {
            let lo = last + 1;
            let hi = (last + 1 + before + after).min(b.len());
            match last_digit(&b[lo..hi]) {
                Some(k) => last = lo + k,
                None => break,
            }
        }
        let lo = floor_char(text, first.saturating_sub(before).max(from));
        let hi = ceil_char(text, (last + 1 + after).min(b.len()));
        out.push(lo..hi);
        from = hi;
        if from >= b.len() {
            break;
        }
    }
    out
}

const ONES: u64 = 0x0101_0101_0101_0101;

/// The high bit of each byte of `x` that is an ASCII digit (eight bytes
/// at a time; no carry or borrow crosses a byte: the low seven bits plus
/// or minus at most 127).
fn digit_bits(x: u64) -> u64 {
    let low7 = x & (ONES * 127);
    (ONES * (127 + b'9' as u64 + 1) - low7)
        & !x
        & (low7 + ONES * (127 - (b'0' as u64 - 1)))
        & (ONES * 128)
}

fn word(b: &[u8]) -> u64 {
    u64::from_le_bytes(b.try_into().expect("eight bytes"))
}

/// Index of the first ASCII digit in `b`.
fn first_digit(b: &[u8]) -> Option<usize> {
    let mut chunks = b.chunks_exact(8);
    for (i, c) in chunks.by_ref().enumerate() {
        let m = digit_bits(word(c));
        if m != 0 {
            return Some(i * 8 + m.trailing_zeros() as usize / 8);
        }
    }
    let tail = b.len() - chunks.remainder().len();
    chunks
        .remainder()
        .iter()
        .position(u8::is_ascii_digit)
        .map(|i| tail + i)
}

/// Index of the last ASCII digit in `b`.
fn last_digit(b: &[u8]) -> Option<usize> {
    let mut chunks = b.rchunks_exact(8);
    for (i, c) in chunks.by_ref().enumerate() {
        let m = digit_bits(word(c));
        if m != 0 {
            return Some(b.len() - (i + 1) * 8 + 7 - m.leading_zeros() as usize / 8);
        }
    }
    chunks.remainder().iter().rposition(u8::is_ascii_digit)
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::around_digits;

    #[test]
    fn stretches() {
        assert!(around_digits("no numbers here", 3, 3).is_empty());
        assert_eq!(around_digits("abc 1 def", 2, 2), vec![2..7]);
        // Reaches that touch merge; apart, they do not.
        assert_eq!(around_digits("1xxx2", 2, 2), vec![0..5]);
        assert_eq!(around_digits("1xxxxxx2", 2, 2), vec![0..3, 5..8]);
        // Never inside a character.
        assert_eq!(around_digits("ééé1", 1, 0), vec![4..7]);
    }

    #[test]
    fn digits_found_eight_at_a_time() {
        let bytes: Vec<u8> = (0..=255u8).collect();
        for (i, &c) in bytes.iter().enumerate() {
            for len in [1, 7, 8, 9, 17, 40] {
                for at in [0, len / 2, len - 1] {
                    let mut b = vec![b'x'; len];
                    b[at] = c;
                    let want = c.is_ascii_digit().then_some(at);
                    assert_eq!(super::first_digit(&b), want, "byte {i} at {at} of {len}");
                    assert_eq!(super::last_digit(&b), want, "byte {i} at {at} of {len}");
                }
            }
        }
        let b = b"12xxxxxxxxxxxxxxxxxxx34";
        assert_eq!(
            (super::first_digit(b), super::last_digit(b)),
            (Some(0), Some(22))
        );
    }
}
