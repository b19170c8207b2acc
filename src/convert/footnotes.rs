//! Comments as footnotes of the HTML export (an option of `?format=html&comments=1`): a numbered marker after each
//! commented range, and a list of the threads at the end of the page. Pure, like every converter.

use super::html::escape;
use crate::ot::Delta;

/// One thread as a footnote: where its range ends (`None`: orphaned, no marker), what it quoted, its messages as
/// (author, body), and whether it was resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Footnote {
    pub end: Option<u64>,
    pub quote: String,
    pub messages: Vec<(String, String)>,
    pub resolved: bool,
}

/// `document` with `[n]` after the range of footnote n (1-based), inserted from the last position to the first so
/// that each position still means what it meant. A marker never goes past the final newline.
pub fn with_markers(document: &Delta, notes: &[Footnote]) -> Delta {
    let last = document.length().saturating_sub(1);
    let mut markers: Vec<(u64, usize)> = notes
        .iter()
        .enumerate()
        .filter_map(|(index, note)| note.end.map(|end| (end.min(last), index + 1)))
        .collect();
    markers.sort_by(|a, b| b.cmp(a));
    let mut document = document.clone();
    for (at, number) in markers {
        let marker = Delta::new()
            .retain(at, None)
            .insert(format!("[{number}]"), None);
        document = document.compose(&marker);
    }
    document
}

/// The "Comments" section, to go before `</body>`; empty without notes.
pub fn section(notes: &[Footnote]) -> String {
    if notes.is_empty() {
        return String::new();
    }
    let mut out = String::from("<section class=\"comments\">\n<h2>Comments</h2>\n<ol>\n");
    for (index, note) in notes.iter().enumerate() {
        out.push_str(&format!("<li id=\"comment-{}\">\n", index + 1));
        out.push_str(&format!(
            "<blockquote>{}</blockquote>\n",
            escape(&note.quote)
        ));
        if note.end.is_none() {
            out.push_str("<p><em>The commented text was deleted.</em></p>\n");
        }
        for (author, body) in &note.messages {
            out.push_str(&format!(
                "<p><strong>{}</strong>: {}</p>\n",
                escape(author),
                escape(body)
            ));
        }
        if note.resolved {
            out.push_str("<p><em>Resolved.</em></p>\n");
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ol>\n</section>\n");
    out
}

/// A full HTML page (from `export`) with the section added at the end of its body.
pub fn add_section(page: &str, notes: &[Footnote]) -> String {
    let section = section(notes);
    match page.rfind("</body>") {
        Some(at) => format!("{}{section}{}", &page[..at], &page[at..]),
        None => format!("{page}{section}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(end: Option<u64>) -> Footnote {
        Footnote {
            end,
            quote: "a<b".into(),
            messages: vec![("Ann".into(), "why & how?".into())],
            resolved: false,
        }
    }

    #[test]
    fn markers_follow_their_ranges_and_the_section_is_escaped() {
        let doc = Delta::new().insert("Hello world\n", None);
        let marked = with_markers(&doc, &[note(Some(5)), note(None), note(Some(11))]);
        assert_eq!(marked.text(), "Hello[1] world[3]\n");
        let page = add_section("<html><body>\n</body></html>", &[note(Some(5))]);
        assert!(page.contains("<blockquote>a&lt;b</blockquote>"), "{page}");
        assert!(page.contains("why &amp; how?"));
        assert!(page.ends_with("</section>\n</body></html>"));
    }
}
