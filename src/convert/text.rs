//! Plain text: export is Quill's `getText` (the text of every line, embeds left out); import makes one
//! unformatted line per line of text, whatever its line endings.

use super::model::normalize_line_endings;
use crate::ot::Delta;

pub fn export(delta: &Delta) -> String {
    delta.text()
}

/// A document with the text's lines; `\r\n` and `\r` end lines too, and a byte-order mark is dropped.
pub fn import(text: &str) -> Delta {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut normalized = normalize_line_endings(text).into_owned();
    if !normalized.ends_with('\n') {
        normalized.push('\n');
    }
    Delta::new().insert(normalized, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_endings_and_the_final_newline() {
        assert_eq!(import("a\r\nb\rc").text(), "a\nb\nc\n");
        assert_eq!(import("").text(), "\n");
        assert_eq!(export(&import("x\n\n")), "x\n\n");
    }
}
