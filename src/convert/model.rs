//! The model every converter shares: a document as lines of formatted spans, and its exact mapping to and
//! from a Quill document Delta (the formats of `web/src/formats.json`; anything else is left out).

use std::borrow::Cow;

use serde_json::{Value, json};

use crate::ot::{Attributes, Delta, InsertValue, Op};

/// The inline formats of one run of text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Marks {
    pub bold: bool,
    pub italic: bool,
    pub underline: bool,
    pub strike: bool,
    pub code: bool,
    /// Only http, https and mailto links are kept (see [`safe_link`]).
    pub link: Option<String>,
}

/// How many open tags of each inline format enclose the reader's position (importers nest them freely).
#[derive(Debug, Default)]
pub struct MarkCounts {
    pub bold: u32,
    pub italic: u32,
    pub underline: u32,
    pub strike: u32,
    pub code: u32,
}

impl MarkCounts {
    /// The counter of an HTML inline tag (HTML files and HTML inside Markdown), if it is one.
    pub fn for_tag(&mut self, name: &str) -> Option<&mut u32> {
        Some(match name {
            "strong" | "b" => &mut self.bold,
            "em" | "i" => &mut self.italic,
            "u" | "ins" => &mut self.underline,
            "s" | "del" | "strike" => &mut self.strike,
            "code" => &mut self.code,
            _ => return None,
        })
    }

    /// The marks at this position, with the innermost link.
    pub fn marks(&self, link: Option<String>) -> Marks {
        Marks {
            bold: self.bold > 0,
            italic: self.italic > 0,
            underline: self.underline > 0,
            strike: self.strike > 0,
            code: self.code > 0,
            link,
        }
    }
}

/// A run of text with one set of marks, or an image (whose text is empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub text: String,
    pub marks: Marks,
    pub image: Option<Image>,
}

/// An image embed: its URL (`/api/docs/{id}/images/{sha256}` in a document; anything in an import, which the
/// caller resolves), its alt text and its width in pixels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Image {
    pub src: String,
    pub alt: Option<String>,
    pub width: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Bullet,
    Ordered,
    Checked,
    Unchecked,
}

/// The most list nesting the editor offers (`indent` 1-8).
pub const MAX_INDENT: u8 = 8;

/// What a line is: the line formats of its `"\n"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Paragraph,
    /// Level 1-3.
    Header(u8),
    /// Kind and nesting depth (0 = top level).
    List(ListKind, u8),
    Quote,
    /// A code-block line and its language, if one other than plain was chosen.
    Code(Option<String>),
    /// A table cell, with its row's id (Quill's `table` format): consecutive cells with one id are a row,
    /// consecutive rows a table.
    Cell(String),
}

/// One line of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub spans: Vec<Span>,
    pub block: Block,
}

impl Line {
    pub fn new(block: Block) -> Line {
        Line {
            spans: Vec::new(),
            block,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.spans
            .iter()
            .all(|span| span.text.is_empty() && span.image.is_none())
    }

    /// The line's plain text.
    pub fn text(&self) -> String {
        self.spans.iter().map(|span| span.text.as_str()).collect()
    }
}

/// The lines split into the groups one element holds: a quote, a code block of one language, a list (all
/// its levels), a table (all its rows), or a single paragraph or heading.
pub fn groups(lines: &[Line]) -> Vec<&[Line]> {
    let mut res = Vec::new();
    let mut rest = lines;
    while let Some(first) = rest.first() {
        let run = 1 + rest[1..]
            .iter()
            .take_while(|next| same_group(&first.block, &next.block))
            .count();
        let (group, tail) = rest.split_at(run);
        res.push(group);
        rest = tail;
    }
    res
}

fn same_group(first: &Block, next: &Block) -> bool {
    match (first, next) {
        (Block::Quote, Block::Quote)
        | (Block::List(..), Block::List(..))
        | (Block::Cell(_), Block::Cell(_)) => true,
        (Block::Code(a), Block::Code(b)) => a == b,
        _ => false,
    }
}

/// True for links that may be written out or read in: http, https and mailto only (as the server's op
/// validation requires), so `javascript:` and friends never reach a page.
pub fn safe_link(url: &str) -> bool {
    url.split_once(':').is_some_and(|(scheme, _)| {
        ["http", "https", "mailto"]
            .iter()
            .any(|allowed| scheme.eq_ignore_ascii_case(allowed))
    })
}

/// `\r\n` and a lone `\r` as `\n`. PROTOCOL.md keeps `\r` out of insert text (the op validator refuses it),
/// so nothing an import reads may carry one into the document.
pub fn normalize_line_endings(text: &str) -> Cow<'_, str> {
    if text.contains('\r') {
        Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(text)
    }
}

/// Running text with every line ending as one space, as a browser renders it: for line breaks that parsers
/// hand over inside inline text (character references such as `&#13;` and `&#10;`).
pub fn line_endings_as_spaces(text: &str) -> Cow<'_, str> {
    match normalize_line_endings(text) {
        Cow::Borrowed(text) if !text.contains('\n') => Cow::Borrowed(text),
        text => Cow::Owned(text.replace('\n', " ")),
    }
}

/// The lines of a code block whose text is `text`; a final line ending closes the last line rather than
/// starting an empty one.
pub fn code_lines(text: &str, language: Option<&str>) -> Vec<Line> {
    let text = normalize_line_endings(text);
    let text = text.strip_suffix('\n').unwrap_or(&text);
    text.split('\n')
        .map(|code_line| {
            let mut line = Line::new(Block::Code(language.map(str::to_string)));
            push_span(&mut line.spans, code_line, &Marks::default());
            line
        })
        .collect()
}

/// A table's rows: runs of consecutive cells with the same row id.
pub fn rows(table: &[Line]) -> Vec<&[Line]> {
    table
        .chunk_by(|a, b| matches!((&a.block, &b.block), (Block::Cell(x), Block::Cell(y)) if x == y))
        .collect()
}

/// The most cells a row of `table` has: what every row is padded to, as Quill's table module does.
pub fn column_count(table: &[Line]) -> usize {
    rows(table).iter().map(|row| row.len()).max().unwrap_or(0)
}

/// The row id an importer gives its `n`th row (from 1): unique within the document it builds, and of the
/// shape the server's op checks accept (Quill's own ids are `row-` and four random characters).
pub fn row_id(n: usize) -> String {
    format!("row-{n}")
}

/// Appends text with marks, merging with the last span when the marks are the same.
pub fn push_span(spans: &mut Vec<Span>, text: &str, marks: &Marks) {
    if text.is_empty() {
        return;
    }
    match spans.last_mut() {
        Some(last) if last.marks == *marks => last.text.push_str(text),
        _ => spans.push(Span {
            text: text.to_string(),
            marks: marks.clone(),
            image: None,
        }),
    }
}

/// Appends an image; it never merges with a neighbour.
pub fn push_image(spans: &mut Vec<Span>, image: Image) {
    spans.push(Span {
        text: String::new(),
        marks: Marks::default(),
        image: Some(image),
    });
}

/// The document's lines, with their images; other embeds are left out.
pub fn lines_of(delta: &Delta) -> Vec<Line> {
    delta
        .lines()
        .into_iter()
        .map(|(content, attributes)| line_of(&content, &attributes))
        .collect()
}

fn line_of(content: &Delta, attributes: &Attributes) -> Line {
    let block = block_of(attributes);
    let mut line = Line::new(block.clone());
    for op in content.ops() {
        let (text, attributes) = match op {
            Op::Insert {
                insert: InsertValue::Text(text),
                attributes,
            } => (text, attributes),
            Op::Insert {
                insert: InsertValue::Embed(embed),
                attributes,
            } => {
                if let Some(image) = image_of(embed, attributes.as_ref()) {
                    push_image(&mut line.spans, image);
                }
                continue;
            }
            _ => continue,
        };
        let marks = match (&block, attributes) {
            (Block::Code(_), _) | (_, None) => Marks::default(),
            (_, Some(attributes)) => marks_of(attributes),
        };
        push_span(&mut line.spans, text.as_str(), &marks);
    }
    line
}

fn image_of(
    embed: &serde_json::Map<String, Value>,
    attributes: Option<&Attributes>,
) -> Option<Image> {
    let src = embed.get("image")?.as_str()?;
    let text = |key: &str| {
        attributes
            .and_then(|a| a.get(key))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    Some(Image {
        src: src.to_string(),
        alt: text("alt"),
        width: text("width"),
    })
}

fn truthy(value: Option<&Value>) -> bool {
    !matches!(value, None | Some(Value::Null) | Some(Value::Bool(false)))
}

fn marks_of(attributes: &Attributes) -> Marks {
    Marks {
        bold: truthy(attributes.get("bold")),
        italic: truthy(attributes.get("italic")),
        underline: truthy(attributes.get("underline")),
        strike: truthy(attributes.get("strike")),
        code: truthy(attributes.get("code")),
        link: attributes
            .get("link")
            .and_then(Value::as_str)
            .filter(|url| safe_link(url))
            .map(str::to_string),
    }
}

fn number(value: Option<&Value>) -> Option<u64> {
    value
        .and_then(|v| v.as_u64().or_else(|| v.as_f64().map(|f| f as u64)))
        .filter(|n| *n > 0)
}

fn block_of(attributes: &Attributes) -> Block {
    if let Some(value) = attributes.get("code-block").filter(|v| truthy(Some(v))) {
        let language = value
            .as_str()
            .filter(|lang| *lang != "plain" && !lang.is_empty());
        return Block::Code(language.map(str::to_string));
    }
    if let Some(row) = attributes.get("table").and_then(Value::as_str) {
        return Block::Cell(row.to_string());
    }
    if let Some(level) = number(attributes.get("header")) {
        return Block::Header(level.min(3) as u8);
    }
    let list = match attributes.get("list").and_then(Value::as_str) {
        Some("bullet") => Some(ListKind::Bullet),
        Some("ordered") => Some(ListKind::Ordered),
        Some("checked") => Some(ListKind::Checked),
        Some("unchecked") => Some(ListKind::Unchecked),
        _ => None,
    };
    if let Some(kind) = list {
        let indent = number(attributes.get("indent")).unwrap_or(0);
        return Block::List(kind, indent.min(u64::from(MAX_INDENT)) as u8);
    }
    if truthy(attributes.get("blockquote")) {
        return Block::Quote;
    }
    Block::Paragraph
}

/// The document Delta of `lines`; no lines make the empty document (`"\n"`).
pub fn delta_of(lines: &[Line]) -> Delta {
    let mut delta = Delta::new();
    for line in lines {
        for span in &line.spans {
            delta = match &span.image {
                Some(image) => delta.insert_embed(image_embed(image), image_attributes(image)),
                None => delta.insert(span.text.as_str(), mark_attributes(&span.marks)),
            };
        }
        delta = delta.insert("\n", block_attributes(&line.block));
    }
    if lines.is_empty() {
        delta = delta.insert("\n", None);
    }
    delta
}

fn image_embed(image: &Image) -> serde_json::Map<String, Value> {
    let mut embed = serde_json::Map::new();
    embed.insert("image".into(), json!(image.src));
    embed
}

fn image_attributes(image: &Image) -> Option<Attributes> {
    let mut attributes = Attributes::new();
    if let Some(alt) = &image.alt {
        attributes.insert("alt".into(), json!(alt));
    }
    if let Some(width) = &image.width {
        attributes.insert("width".into(), json!(width));
    }
    Some(attributes).filter(|a| !a.is_empty())
}

fn mark_attributes(marks: &Marks) -> Option<Attributes> {
    let mut attributes = Attributes::new();
    let flags = [
        ("bold", marks.bold),
        ("italic", marks.italic),
        ("underline", marks.underline),
        ("strike", marks.strike),
        ("code", marks.code),
    ];
    for (name, on) in flags {
        if on {
            attributes.insert(name.into(), Value::Bool(true));
        }
    }
    if let Some(link) = &marks.link {
        attributes.insert("link".into(), json!(link));
    }
    Some(attributes).filter(|a| !a.is_empty())
}

fn block_attributes(block: &Block) -> Option<Attributes> {
    let mut attributes = Attributes::new();
    match block {
        Block::Paragraph => return None,
        Block::Header(level) => {
            attributes.insert("header".into(), json!(level));
        }
        Block::List(kind, indent) => {
            attributes.insert("list".into(), json!(list_name(*kind)));
            if *indent > 0 {
                attributes.insert("indent".into(), json!(indent));
            }
        }
        Block::Quote => {
            attributes.insert("blockquote".into(), Value::Bool(true));
        }
        Block::Code(language) => {
            let value = language.as_ref().map_or(Value::Bool(true), |l| json!(l));
            attributes.insert("code-block".into(), value);
        }
        Block::Cell(row) => {
            attributes.insert("table".into(), json!(row));
        }
    }
    Some(attributes)
}

fn list_name(kind: ListKind) -> &'static str {
    match kind {
        ListKind::Bullet => "bullet",
        ListKind::Ordered => "ordered",
        ListKind::Checked => "checked",
        ListKind::Unchecked => "unchecked",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_back_keep_every_format() {
        let bold = json!({"bold": true, "link": "https://example.com"});
        let delta = Delta::new()
            .insert("Title", None)
            .insert("\n", json!({"header": 2}).as_object().cloned())
            .insert("hi ", None)
            .insert("there", bold.as_object().cloned())
            .insert(
                "\n",
                json!({"list": "checked", "indent": 2}).as_object().cloned(),
            )
            .insert("x = 1", None)
            .insert("\n", json!({"code-block": "rust"}).as_object().cloned());
        assert_eq!(delta_of(&lines_of(&delta)), delta);
    }

    #[test]
    fn line_endings_become_newlines_or_spaces() {
        assert_eq!(normalize_line_endings("a\r\nb\rc\n\r"), "a\nb\nc\n\n");
        assert!(matches!(normalize_line_endings("a\nb"), Cow::Borrowed(_)));
        assert_eq!(line_endings_as_spaces("a\r\nb\rc\nd"), "a b c d");
        let texts: Vec<String> = code_lines("x\r\n\ry\r", None)
            .iter()
            .map(Line::text)
            .collect();
        assert_eq!(texts, ["x", "", "y"]);
    }

    #[test]
    fn unsafe_links_are_dropped() {
        assert!(safe_link("HTTPS://x") && safe_link("mailto:a@b"));
        assert!(!safe_link("javascript:alert(1)") && !safe_link("/relative"));
        let delta = Delta::new()
            .insert(
                "x",
                json!({"link": "javascript:alert(1)"}).as_object().cloned(),
            )
            .insert("\n", None);
        assert_eq!(lines_of(&delta)[0].spans[0].marks, Marks::default());
    }
}
