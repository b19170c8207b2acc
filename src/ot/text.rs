//! `Text`: insert text as a Rust `String` with its UTF-16 length cached, and UTF-16 cutting.
//!
//! quill-delta counts JS `String.length` units, so every offset here is a UTF-16 offset. A cut
//! between the two halves of a surrogate pair cannot be represented in a `String`: the strict
//! cut reports it, the lossy cut writes U+FFFD (also one UTF-16 unit) for each half so that
//! lengths still agree with quill-delta's.

use std::fmt;

/// Insert text: a `String` plus its length in UTF-16 code units.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Text {
    s: String,
    len16: u64,
}

impl Text {
    pub fn new(s: impl Into<String>) -> Text {
        let s = s.into();
        let len16 = utf16_len(&s);
        Text { s, len16 }
    }

    pub fn as_str(&self) -> &str {
        &self.s
    }

    pub fn into_string(self) -> String {
        self.s
    }

    /// Length in UTF-16 code units (JS `String.length`).
    pub fn len_utf16(&self) -> u64 {
        self.len16
    }

    pub fn is_empty(&self) -> bool {
        self.s.is_empty()
    }

    pub(super) fn push_text(&mut self, other: &Text) {
        self.s.push_str(&other.s);
        self.len16 += other.len16;
    }

    /// ASCII text has byte offsets equal to UTF-16 offsets, which makes cutting O(1).
    fn is_ascii_fast(&self) -> bool {
        self.len16 == self.s.len() as u64
    }

    /// The text between UTF-16 offsets `start` and `end`; an error names the offending offset
    /// when either boundary splits a surrogate pair.
    pub fn slice(&self, start: u64, end: u64) -> Result<Text, u64> {
        let start_mark = self.seek(Mark::ZERO, start);
        self.cut(start_mark, start, end.min(self.len16), false)
            .map(|(text, _)| text)
    }

    /// Where UTF-16 offset `target` is, walking forward from a known character start.
    pub(super) fn seek(&self, from: Mark, target: u64) -> Seek {
        if self.is_ascii_fast() {
            let byte = target.min(self.len16) as usize;
            return Seek {
                mark: Mark {
                    byte,
                    unit: target.min(self.len16),
                },
                inside: false,
            };
        }
        let mut mark = from;
        for c in self.s[from.byte..].chars() {
            if mark.unit >= target {
                break;
            }
            let width = c.len_utf16() as u64;
            if mark.unit + width > target {
                return Seek { mark, inside: true };
            }
            mark.unit += width;
            mark.byte += c.len_utf8();
        }
        Seek {
            mark,
            inside: false,
        }
    }

    /// Cuts `[start, end)` given where `start` is; returns the piece and where `end` is.
    /// With `lossy`, a half pair becomes U+FFFD instead of an error.
    pub(super) fn cut(
        &self,
        start: Seek,
        start16: u64,
        end16: u64,
        lossy: bool,
    ) -> Result<(Text, Seek), u64> {
        let end = self.seek(start.mark, end16);
        if (start.inside || end.inside) && !lossy {
            return Err(if start.inside { start16 } else { end16 });
        }
        let mut piece = String::new();
        let mut from = start.mark.byte;
        if start.inside {
            piece.push(char::REPLACEMENT_CHARACTER);
            // An astral character is always four bytes of UTF-8.
            from += 4;
        }
        if from <= end.mark.byte {
            piece.push_str(&self.s[from..end.mark.byte]);
        }
        if end.inside {
            piece.push(char::REPLACEMENT_CHARACTER);
        }
        let len16 = end16 - start16;
        Ok((Text { s: piece, len16 }, end))
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.s, f)
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text::new(s)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text::new(s)
    }
}

/// A character start inside a text: its byte index and its UTF-16 offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Mark {
    pub(super) byte: usize,
    pub(super) unit: u64,
}

impl Mark {
    pub(super) const ZERO: Mark = Mark { byte: 0, unit: 0 };
}

/// The result of seeking a UTF-16 offset: the character at it, or the astral character whose
/// halves it falls between (`inside`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Seek {
    pub(super) mark: Mark,
    pub(super) inside: bool,
}

/// UTF-16 length of UTF-8 text: one unit per character, two for characters of four bytes.
pub fn utf16_len(s: &str) -> u64 {
    s.bytes()
        .map(|b| u64::from((b & 0xC0) != 0x80) + u64::from(b >= 0xF0))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_utf16() {
        assert_eq!(Text::new("a😀b").len_utf16(), 4);
        assert_eq!(Text::new("e\u{301}").len_utf16(), 2);
        assert_eq!(Text::new("👨‍👨‍👦‍👦").len_utf16(), 11);
        assert_eq!(Text::new("漢字").len_utf16(), 2);
    }

    #[test]
    fn strict_slice_rejects_split_pairs() {
        let t = Text::new("a😀b");
        assert_eq!(t.slice(0, 1).unwrap().as_str(), "a");
        assert_eq!(t.slice(1, 3).unwrap().as_str(), "😀");
        assert_eq!(t.slice(0, 2), Err(2));
        assert_eq!(t.slice(2, 4), Err(2));
        assert_eq!(t.slice(3, 4).unwrap().as_str(), "b");
    }

    #[test]
    fn lossy_cut_keeps_lengths() {
        let t = Text::new("a😀b");
        let start = t.seek(Mark::ZERO, 0);
        let (left, mid) = t.cut(start, 0, 2, true).unwrap();
        assert_eq!(left.as_str(), "a\u{FFFD}");
        assert_eq!(left.len_utf16(), 2);
        let (right, _) = t.cut(mid, 2, 4, true).unwrap();
        assert_eq!(right.as_str(), "\u{FFFD}b");
        assert_eq!(right.len_utf16(), 2);
    }
}
