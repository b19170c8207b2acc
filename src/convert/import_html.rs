//! HTML import for what the export writes (and the common tags around it): `<p>`, `<h1>`-`<h6>`,
//! `<blockquote>`, `<pre>`, nested `<ul>` / `<ol>` (check lists by `data-checked`, Quill's `data-list`, or a
//! checkbox), `<table>` (each `<td>` or `<th>` a cell, each `<tr>` a row with a fresh id, short rows padded),
//! `<br>`, inline `<strong>`/`<b>`, `<em>`/`<i>`, `<u>`, `<s>`/`<del>`, `<code>`, `<a href>`, and `<img>` (its URL
//! as written, alt text and pixel width; the caller decides what an image URL may be).
//! Other tags are transparent, and so is every block inside a cell (a cell is one line of inline text). Whitespace that holds a line break is source formatting: it reads as one
//! space inside text and as nothing between blocks; other spaces are kept, and a no-break space is a space,
//! so exported text comes back exact.
//! The tokens are a WHATWG tokenizer's (`html_tokens`); the tree is this reader's, tolerant as browsers are
//! where it matters here: an unclosed `<p>` or `<li>` ends at the next one, and a `<head>` ends where the
//! body's content starts.

use super::html_tokens::{Token, tokens};
use super::model::{
    Block, Image, Line, ListKind, MAX_INDENT, MarkCounts, Marks, Span, code_lines, delta_of,
    push_image, push_span, row_id, safe_link,
};
use crate::ot::Delta;

pub fn import(html: &str) -> Delta {
    delta_of(&lines(html))
}

/// The document lines of an HTML text.
pub fn lines(html: &str) -> Vec<Line> {
    read(html).0
}

/// The `<title>`, if the page has a non-empty one.
pub fn title(html: &str) -> Option<String> {
    read(html).1
}

fn read(html: &str) -> (Vec<Line>, Option<String>) {
    let mut reader = Reader::default();
    for token in tokens(html) {
        reader.token(token);
    }
    // A `<pre>` left open holds the rest of the input, as in a browser.
    reader.end_pre();
    if !reader.spans.is_empty() {
        reader.flush();
    }
    // As `document.title` reads it: ASCII whitespace runs (line endings too) are one space.
    let words: Vec<&str> = reader.title.split_ascii_whitespace().collect();
    let title = Some(words.join(" ")).filter(|t| !t.is_empty());
    (reader.lines, title)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// p, h1-h6 and li make a line even when empty; div-like containers do not.
    Text,
    Container,
    Header(u8),
    Quote,
    Pre,
    List(ListKind),
    Item(ListKind),
    Table,
    /// A `<tr>` and the id its cells carry.
    Row(String),
    Cell,
}

impl Kind {
    /// Elements that hold blocks but are no line themselves.
    fn is_container(&self) -> bool {
        matches!(
            self,
            Kind::Container | Kind::List(_) | Kind::Table | Kind::Row(_)
        )
    }
}

struct Frame {
    tag: String,
    kind: Kind,
    start_len: usize,
    child_block: bool,
}

#[derive(Default)]
struct Reader {
    lines: Vec<Line>,
    spans: Vec<Span>,
    frames: Vec<Frame>,
    counts: MarkCounts,
    links: Vec<Option<String>>,
    code: Option<(Option<String>, String)>,
    pending_space: bool,
    explicit_empty: bool,
    /// Inside `<head>`, whose content is not the document's; it ends where the body's content starts.
    in_head: bool,
    in_title: bool,
    /// The last token was `<pre>`: a newline right after it is not content.
    pre_fresh: bool,
    title: String,
    /// How many table rows the document has had: the next row's id.
    rows: usize,
}

/// What may stand in a `<head>` (the spec's "in head" insertion mode); any other start tag, or text that is
/// not whitespace, starts the body even without `</head>` or `<body>`.
const HEAD_CONTENT: &[&str] = &[
    "html", "head", "title", "base", "basefont", "bgsound", "link", "meta", "style", "script",
    "noscript", "noframes", "template",
];

/// How many block elements nest before deeper ones are read as transparent. Every line looks through the open
/// blocks, so without a bound a deeply nested input would take time quadratic in its size; real documents
/// stay far below this (browsers cap their trees at 512 elements deep, inline ones included).
const MAX_FRAMES: usize = 128;

const CONTAINERS: &[&str] = &[
    "div",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "nav",
    "aside",
    "dl",
    "dt",
    "dd",
    "figure",
    "figcaption",
    "address",
    "body",
    "caption",
];

/// The tags that make a table's structure, which still count inside a cell (a table nested in a cell).
const TABLE_TAGS: &[&str] = &["table", "thead", "tbody", "tfoot", "tr", "td", "th"];

impl Reader {
    fn token(&mut self, token: Token) {
        let pre_fresh = std::mem::take(&mut self.pre_fresh);
        match token {
            Token::Text(text) => self.text(
                text.strip_prefix('\n')
                    .filter(|_| pre_fresh)
                    .unwrap_or(&text),
            ),
            Token::Start { name, attrs } => self.start(name, &attrs),
            Token::End(name) => self.end(&name),
        }
    }

    fn start(&mut self, name: String, attrs: &[(String, String)]) {
        if self.in_head && !HEAD_CONTENT.contains(&name.as_str()) {
            self.in_head = false;
        }
        match name.as_str() {
            "head" => self.in_head = true,
            "title" => self.in_title = true,
            "br" => self.line_break(),
            "input" => self.checkbox(attrs),
            "img" => self.image(attrs),
            "a" => self.links.push(
                Token::attr(attrs, "href")
                    .filter(|url| safe_link(url))
                    .map(str::to_string),
            ),
            "code" if self.code.is_some() => self.code_language(attrs),
            "pre" if self.frames.len() < MAX_FRAMES && self.cell_at().is_none() => {
                self.open(name, Kind::Pre);
                self.code = Some((None, String::new()));
                self.code_language(attrs);
                self.pre_fresh = true;
            }
            _ => {
                if let Some(count) = self.counts.for_tag(&name) {
                    *count += 1;
                } else if let Some(kind) = self.block_kind(&name, attrs) {
                    self.open(name, kind);
                }
            }
        }
    }

    fn end(&mut self, name: &str) {
        match name {
            // The spec's "in head" mode treats these three as `</head>` too.
            "head" | "body" | "html" | "br" if self.in_head => self.in_head = false,
            "head" => {}
            "title" => self.in_title = false,
            "a" => {
                self.links.pop();
            }
            _ => {
                if let Some(count) = self.counts.for_tag(name) {
                    *count = count.saturating_sub(1);
                } else if let Some(at) = self.frame_closed_by(name) {
                    while self.frames.len() > at {
                        self.close_frame();
                    }
                }
            }
        }
    }

    /// The open element an end tag closes. In a cell, the blocks were transparent, so only the table's own
    /// tags reach past the cell (a stray `</div>` must not close the `<div>` the table is in).
    fn frame_closed_by(&self, name: &str) -> Option<usize> {
        let floor = match self.cell_at() {
            Some(cell) if !TABLE_TAGS.contains(&name) => cell + 1,
            _ => 0,
        };
        self.frames[floor..]
            .iter()
            .rposition(|f| f.tag == name)
            .map(|at| floor + at)
    }

    /// The innermost open cell, if the reader is in one.
    fn cell_at(&self) -> Option<usize> {
        self.frames.iter().rposition(|f| f.kind == Kind::Cell)
    }

    /// The innermost open table, and whether a row is open in it.
    fn in_table(&self) -> Option<bool> {
        self.frames.iter().rev().find_map(|f| match f.kind {
            Kind::Table => Some(false),
            Kind::Row(_) => Some(true),
            _ => None,
        })
    }

    fn block_kind(&mut self, name: &str, attrs: &[(String, String)]) -> Option<Kind> {
        if let Some(kind) = self.table_kind(name) {
            return kind;
        }
        let kind = self.other_block_kind(name, attrs)?;
        if self.cell_at().is_some() {
            // Inline text only: headings, lists, quotes and paragraphs in a cell are dropped, their text kept,
            // with a space where one block ended and the next began.
            self.pending_space = !self.spans.is_empty();
            return None;
        }
        Some(kind)
    }

    fn other_block_kind(&mut self, name: &str, attrs: &[(String, String)]) -> Option<Kind> {
        Some(match name {
            "p" => Kind::Text,
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                Kind::Header(name[1..].parse::<u8>().unwrap_or(3).min(3))
            }
            "blockquote" => Kind::Quote,
            "ul" | "ol" => Kind::List(list_kind(name, attrs)),
            "li" => Kind::Item(self.item_kind(attrs)),
            _ if CONTAINERS.contains(&name) => Kind::Container,
            _ => return None,
        })
    }

    /// `Some(kind)` for a table's tags: the structure inside a table, and nothing (transparent) outside one,
    /// as a browser drops a `<td>` that is in no table.
    fn table_kind(&mut self, name: &str) -> Option<Option<Kind>> {
        let kind = match (name, self.in_table()) {
            ("table", _) => Kind::Table,
            ("thead" | "tbody" | "tfoot", Some(_)) => Kind::Container,
            ("tr", Some(_)) => self.new_row(),
            ("td" | "th", Some(_)) => Kind::Cell,
            ("thead" | "tbody" | "tfoot" | "tr" | "td" | "th", None) => return Some(None),
            _ => return None,
        };
        Some(Some(kind))
    }

    fn new_row(&mut self) -> Kind {
        self.rows += 1;
        Kind::Row(row_id(self.rows))
    }

    fn item_kind(&self, attrs: &[(String, String)]) -> ListKind {
        if let Some(checked) = Token::attr(attrs, "data-checked") {
            return if checked == "true" {
                ListKind::Checked
            } else {
                ListKind::Unchecked
            };
        }
        match Token::attr(attrs, "data-list") {
            Some("bullet") => ListKind::Bullet,
            Some("ordered") => ListKind::Ordered,
            Some("checked") => ListKind::Checked,
            Some("unchecked") => ListKind::Unchecked,
            _ => self
                .frames
                .iter()
                .rev()
                .find_map(|f| match f.kind {
                    Kind::List(kind) => Some(kind),
                    _ => None,
                })
                .unwrap_or(ListKind::Bullet),
        }
    }

    /// Starts a block element: what was read before it is a line of its own. Past [`MAX_FRAMES`] the element
    /// is transparent: its text joins the block it is in.
    fn open(&mut self, tag: String, kind: Kind) {
        if self.frames.len() >= MAX_FRAMES {
            return;
        }
        // A new item or paragraph ends an unclosed one, as browsers do.
        let implied = matches!(
            (&kind, self.frames.last().map(|f| &f.kind)),
            (Kind::Item(_), Some(Kind::Item(_))) | (_, Some(Kind::Text))
        );
        if implied {
            self.close_frame();
        }
        self.close_implied_by_table(&kind);
        // A cell straight in a `<table>` or `<tbody>` is in a row of its own, as a browser makes one.
        if kind == Kind::Cell && self.in_table() == Some(false) {
            let row = self.new_row();
            self.push_frame("tr".into(), row);
        }
        if !self.spans.is_empty() || self.explicit_empty {
            self.flush();
        }
        self.push_frame(tag, kind);
    }

    fn push_frame(&mut self, tag: String, kind: Kind) {
        if let Some(parent) = self.frames.last_mut() {
            parent.child_block = true;
        }
        self.frames.push(Frame {
            tag,
            kind,
            start_len: self.lines.len(),
            child_block: false,
        });
    }

    /// An unclosed `<td>` ends at the next cell or row, and an unclosed `<tr>` at the next row, as in a browser.
    fn close_implied_by_table(&mut self, kind: &Kind) {
        let ends = |open: &Kind| match kind {
            Kind::Cell => *open == Kind::Cell,
            Kind::Row(_) => matches!(open, Kind::Cell | Kind::Row(_)),
            _ => false,
        };
        while self.frames.last().is_some_and(|f| ends(&f.kind)) {
            self.close_frame();
        }
    }

    fn close_frame(&mut self) {
        let Some(frame) = self.frames.last() else {
            return;
        };
        let makes_line = !frame.kind.is_container() && frame.kind != Kind::Pre;
        let bare = makes_line && self.lines.len() == frame.start_len && !frame.child_block;
        let table_start = (frame.kind == Kind::Table).then_some(frame.start_len);
        if frame.kind == Kind::Pre {
            self.end_pre();
        } else if !self.spans.is_empty() || self.explicit_empty || bare {
            self.flush();
        }
        self.frames.pop();
        if let Some(start) = table_start {
            pad_table(&mut self.lines, start);
        }
    }

    /// The code's text can still hold the `\r` of a character reference such as `&#13;`: `code_lines` makes
    /// it a line ending, as the browser's editor would.
    fn end_pre(&mut self) {
        if let Some((language, text)) = self.code.take() {
            self.lines.extend(code_lines(&text, language.as_deref()));
        }
    }

    fn code_language(&mut self, attrs: &[(String, String)]) {
        let class = Token::attr(attrs, "class").unwrap_or_default();
        let language = class
            .split_whitespace()
            .find_map(|c| c.strip_prefix("language-"))
            .filter(|lang| !lang.is_empty() && *lang != "plain");
        if let (Some((slot, _)), Some(lang)) = (&mut self.code, language) {
            *slot = Some(lang.to_string());
        }
    }

    fn checkbox(&mut self, attrs: &[(String, String)]) {
        if !Token::attr(attrs, "type").is_some_and(|kind| kind.eq_ignore_ascii_case("checkbox")) {
            return;
        }
        let checked = Token::attr(attrs, "checked").is_some();
        if let Some(frame) = self.frames.last_mut()
            && let Kind::Item(kind) = &mut frame.kind
        {
            *kind = if checked {
                ListKind::Checked
            } else {
                ListKind::Unchecked
            };
        }
    }

    fn text(&mut self, text: &str) {
        if self.in_title {
            self.title.push_str(text);
            return;
        }
        if self.in_head {
            if text.trim_ascii().is_empty() {
                return;
            }
            self.in_head = false;
        }
        if let Some((_, code)) = &mut self.code {
            code.push_str(text);
            return;
        }
        let between_blocks = self
            .frames
            .last()
            .is_none_or(|f| f.kind.is_container() || f.kind == Kind::Quote);
        if between_blocks && self.spans.is_empty() && text.trim().is_empty() {
            return;
        }
        // `&nbsp;` is how the export (and Quill's getSemanticHTML, for every space) keeps the spaces a browser
        // would collapse: it reads as a space, as Quill's clipboard reads it.
        self.inline_text(&text.replace('\u{a0}', " "));
    }

    /// Text inside a block: whitespace runs holding a line break become one space (none at a line's edges).
    fn inline_text(&mut self, text: &str) {
        let mut rest = text;
        while !rest.is_empty() {
            let ws_end = rest
                .find(|c: char| !c.is_whitespace())
                .unwrap_or(rest.len());
            let (ws, after) = rest.split_at(ws_end);
            if ws.contains(['\n', '\r']) {
                self.pending_space = !self.spans.is_empty();
            } else if !ws.is_empty() {
                self.push(ws);
            }
            let word_end = after.find(char::is_whitespace).unwrap_or(after.len());
            if word_end > 0 {
                self.push(&after[..word_end]);
            }
            rest = &after[word_end..];
        }
    }

    fn image(&mut self, attrs: &[(String, String)]) {
        let Some(src) = Token::attr(attrs, "src").filter(|src| !src.is_empty()) else {
            return;
        };
        if self.in_title || self.in_head || self.code.is_some() {
            return;
        }
        if std::mem::take(&mut self.pending_space) {
            let marks = self.marks();
            push_span(&mut self.spans, " ", &marks);
        }
        let text = |name| {
            Token::attr(attrs, name)
                .filter(|value| !value.is_empty())
                .map(str::to_string)
        };
        let width = text("width").filter(|w| w.len() <= 4 && w.bytes().all(|b| b.is_ascii_digit()));
        push_image(
            &mut self.spans,
            Image {
                src: src.to_string(),
                alt: text("alt"),
                width,
            },
        );
    }

    fn push(&mut self, text: &str) {
        let marks = self.marks();
        if std::mem::take(&mut self.pending_space) {
            push_span(&mut self.spans, " ", &marks);
        }
        push_span(&mut self.spans, text, &marks);
    }

    fn marks(&self) -> Marks {
        self.counts.marks(self.links.last().cloned().flatten())
    }

    fn line_break(&mut self) {
        if let Some((_, code)) = &mut self.code {
            code.push('\n');
        } else if self.cell_at().is_some() {
            // A cell is one line.
            self.pending_space = !self.spans.is_empty();
        } else if self.spans.is_empty() {
            self.explicit_empty = true;
        } else {
            self.flush();
        }
    }

    fn block(&self) -> Block {
        if let Some(cell) = self.cell_at() {
            let row = self.frames[..cell]
                .iter()
                .rev()
                .find_map(|f| match &f.kind {
                    Kind::Row(id) => Some(id.clone()),
                    _ => None,
                });
            // A cell always opens inside a row (`open` makes one where the page has none).
            return Block::Cell(row.unwrap_or_else(|| row_id(self.rows)));
        }
        let header = self.frames.iter().rev().find_map(|f| match f.kind {
            Kind::Header(level) => Some(level),
            _ => None,
        });
        if let Some(level) = header {
            return Block::Header(level);
        }
        if let Some(Kind::Item(kind)) = self
            .frames
            .iter()
            .rev()
            .map(|f| &f.kind)
            .find(|k| matches!(k, Kind::Item(_)))
        {
            let lists = self
                .frames
                .iter()
                .filter(|f| matches!(f.kind, Kind::List(_)))
                .count();
            let depth = lists.saturating_sub(1).min(usize::from(MAX_INDENT));
            return Block::List(*kind, depth as u8);
        }
        if self.frames.iter().any(|f| f.kind == Kind::Quote) {
            return Block::Quote;
        }
        Block::Paragraph
    }

    fn flush(&mut self) {
        let line = Line {
            spans: std::mem::take(&mut self.spans),
            block: self.block(),
        };
        self.lines.push(line);
        self.pending_space = false;
        self.explicit_empty = false;
    }
}

/// Gives every row of the table that starts at `lines[start]` as many cells as its widest row, as Quill's
/// table module balances a table: a ragged table from elsewhere becomes a grid.
fn pad_table(lines: &mut Vec<Line>, start: usize) {
    // (index after the row's last cell, row id, cells) of each row, in order.
    let mut rows: Vec<(usize, String, usize)> = Vec::new();
    for (at, line) in lines.iter().enumerate().skip(start) {
        let Block::Cell(id) = &line.block else {
            continue;
        };
        match rows.last_mut() {
            Some((end, last, cells)) if last == id && *end == at => {
                *end = at + 1;
                *cells += 1;
            }
            _ => rows.push((at + 1, id.clone(), 1)),
        }
    }
    let widest = rows.iter().map(|row| row.2).max().unwrap_or(0);
    for (end, id, cells) in rows.into_iter().rev() {
        let padding = (cells..widest).map(|_| Line::new(Block::Cell(id.clone())));
        lines.splice(end..end, padding);
    }
}

fn list_kind(name: &str, attrs: &[(String, String)]) -> ListKind {
    let class = Token::attr(attrs, "class").unwrap_or_default();
    if class.split_whitespace().any(|c| c == "checklist") {
        ListKind::Unchecked
    } else if name == "ol" {
        ListKind::Ordered
    } else {
        ListKind::Bullet
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_past_the_bound_keeps_the_text() {
        let html = format!("{}<ul><li>a</li></ul><pre>b</pre>", "<div>".repeat(10_000));
        let texts: Vec<String> = lines(&html).iter().map(Line::text).collect();
        assert_eq!(texts, ["ab"]);
    }
}
