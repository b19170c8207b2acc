//! HTML export: a clean, standalone, escaped document. Headings, paragraphs, quotes, `<pre><code>` for code
//! blocks (consecutive lines merged), nested `<ul>` / `<ol>` / `<ul class="checklist">` lists, and inline
//! `<strong> <em> <u> <s> <code> <a href>` (links only for http, https and mailto). Empty lines are `<br>`.
//! A table is `<table><tbody>` with a `<tr>` per row and a `<td>` per cell, as Quill's getSemanticHTML
//! writes it; a page with a table gets a few lines of CSS so that its cells have borders.

use super::inline::{self, Event, Mark};
use super::model::{Block, Image, Line, ListKind, groups, lines_of, rows};
use crate::ot::Delta;

/// The whole page for a document titled `title`.
pub fn export(delta: &Delta, title: &str) -> String {
    let mut out = String::from("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(&format!("<title>{}</title>\n", escape(title)));
    let lines = lines_of(delta);
    if lines
        .iter()
        .any(|line| matches!(line.block, Block::Cell(_)))
    {
        out.push_str(TABLE_STYLE);
    }
    out.push_str("</head>\n<body>\n");
    out.push_str(&body(&lines));
    out.push_str("</body>\n</html>\n");
    out
}

/// A page without CSS draws a table with no lines at all; these are the editor's (collapsed borders, padding).
const TABLE_STYLE: &str = "<style>\ntable { border-collapse: collapse; }\n\
td { border: 1px solid #999; padding: 4px 8px; vertical-align: top; }\n</style>\n";

/// The document's blocks without the page around them, for showing inside another page (a version preview).
pub fn fragment(delta: &Delta) -> String {
    body(&lines_of(delta))
}

/// The body's blocks, one per line of output.
pub fn body(lines: &[Line]) -> String {
    let mut out = String::new();
    for group in groups(lines) {
        let first = &group[0];
        match &first.block {
            Block::Paragraph => out.push_str(&format!("<p>{}</p>\n", inline_html(first))),
            Block::Header(level) => {
                out.push_str(&format!("<h{level}>{}</h{level}>\n", inline_html(first)));
            }
            Block::Quote => write_quote(&mut out, group),
            Block::Code(language) => write_code(&mut out, group, language.as_deref()),
            Block::List(..) => write_list(&mut out, group),
            Block::Cell(_) => write_table(&mut out, group),
        }
    }
    out
}

fn write_quote(out: &mut String, group: &[Line]) {
    out.push_str("<blockquote>\n");
    for line in group {
        out.push_str(&format!("<p>{}</p>\n", inline_html(line)));
    }
    out.push_str("</blockquote>\n");
}

/// Every code line ends with a newline, so an empty last line survives the importer dropping one.
fn write_code(out: &mut String, group: &[Line], language: Option<&str>) {
    match language {
        Some(lang) => out.push_str(&format!("<pre><code class=\"language-{}\">", escape(lang))),
        None => out.push_str("<pre><code>"),
    }
    for line in group {
        out.push_str(&escape(&line.text()));
        out.push('\n');
    }
    out.push_str("</code></pre>\n");
}

/// Each row as it is: a row shorter than the others (which only a hand-made Delta has; the editor pads them)
/// stays short rather than gaining cells the document does not hold.
fn write_table(out: &mut String, table: &[Line]) {
    out.push_str("<table>\n<tbody>\n");
    for row in rows(table) {
        out.push_str("<tr>\n");
        for cell in row {
            // An empty cell is empty, as Quill writes it: a table cell has its height without a `<br>`.
            let content = if cell.is_empty() {
                String::new()
            } else {
                inline_html(cell)
            };
            out.push_str(&format!("<td>{content}</td>\n"));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Container {
    Bullet,
    Ordered,
    Checklist,
}

fn container(kind: ListKind) -> Container {
    match kind {
        ListKind::Bullet => Container::Bullet,
        ListKind::Ordered => Container::Ordered,
        ListKind::Checked | ListKind::Unchecked => Container::Checklist,
    }
}

fn open_tag(container: Container) -> &'static str {
    match container {
        Container::Bullet => "<ul>",
        Container::Ordered => "<ol>",
        Container::Checklist => "<ul class=\"checklist\">",
    }
}

fn close_tag(container: Container) -> &'static str {
    match container {
        Container::Ordered => "</ol>",
        _ => "</ul>",
    }
}

/// Nested lists by indent. A level with no item of its own (indent jumping by more than one) gets an `<li>`
/// without content, which the importer reads as no line.
fn write_list(out: &mut String, group: &[Line]) {
    let mut stack: Vec<Container> = Vec::new();
    for line in group {
        let Block::List(kind, indent) = line.block else {
            continue;
        };
        let level = usize::from(indent);
        let wanted = container(kind);
        while stack.len() > level + 1 {
            close_level(out, &mut stack);
        }
        if stack.len() == level + 1 {
            if stack[level] == wanted {
                out.push_str("</li>\n");
            } else {
                close_level(out, &mut stack);
            }
        }
        while stack.len() < level {
            out.push_str(open_tag(wanted));
            out.push_str("<li>");
            stack.push(wanted);
        }
        if stack.len() == level {
            out.push_str(open_tag(wanted));
            out.push('\n');
            stack.push(wanted);
        }
        out.push_str(&list_item(kind, line));
    }
    while !stack.is_empty() {
        close_level(out, &mut stack);
    }
}

fn close_level(out: &mut String, stack: &mut Vec<Container>) {
    if let Some(top) = stack.pop() {
        out.push_str("</li>\n");
        out.push_str(close_tag(top));
        out.push('\n');
    }
}

fn list_item(kind: ListKind, line: &Line) -> String {
    let open = match kind {
        ListKind::Checked => "<li data-checked=\"true\">",
        ListKind::Unchecked => "<li data-checked=\"false\">",
        _ => "<li>",
    };
    format!("{open}{}", inline_html(line))
}

/// A line's inline HTML; an empty line is `<br>` (as Quill writes it). Spaces a browser would collapse (at the
/// line's edges, and after another space) are `&nbsp;`, so the page shows the spacing the editor showed.
pub fn inline_html(line: &Line) -> String {
    if line.is_empty() {
        return "<br>".into();
    }
    let mut out = String::new();
    let mut spaces = Spaces {
        left: line.spans.iter().map(|span| span.text.len()).sum(),
        after_space: true,
    };
    for event in inline::events(&line.spans) {
        match event {
            Event::Text(text) => spaces.escape(text, &mut out),
            Event::Image(image) => {
                out.push_str(&image_tag(image));
                spaces.after_space = false;
            }
            Event::Open(mark) => out.push_str(&open_mark(&mark)),
            Event::Close(mark) => out.push_str(close_mark(&mark)),
        }
    }
    out
}

/// `<img>` as Quill writes it: the source, then the alt text and the width it was given.
fn image_tag(image: &Image) -> String {
    let mut tag = format!("<img src=\"{}\"", escape(&image.src));
    if let Some(alt) = &image.alt {
        tag.push_str(&format!(" alt=\"{}\"", escape(alt)));
    }
    if let Some(width) = &image.width {
        tag.push_str(&format!(" width=\"{}\"", escape(width)));
    }
    tag.push('>');
    tag
}

fn open_mark(mark: &Mark) -> String {
    match mark {
        Mark::Link(url) => format!("<a href=\"{}\">", escape(url)),
        Mark::Bold => "<strong>".into(),
        Mark::Italic => "<em>".into(),
        Mark::Strike => "<s>".into(),
        Mark::Underline => "<u>".into(),
        Mark::Code => "<code>".into(),
    }
}

fn close_mark(mark: &Mark) -> &'static str {
    match mark {
        Mark::Link(_) => "</a>",
        Mark::Bold => "</strong>",
        Mark::Italic => "</em>",
        Mark::Strike => "</s>",
        Mark::Underline => "</u>",
        Mark::Code => "</code>",
    }
}

/// Where a line's text stands, for writing its spaces: bytes left up to its end, and whether the character
/// before was a space (or there was none).
struct Spaces {
    left: usize,
    after_space: bool,
}

impl Spaces {
    /// Escapes the next piece of the line's text.
    fn escape(&mut self, text: &str, out: &mut String) {
        for c in text.chars() {
            self.left -= c.len_utf8();
            if c == ' ' && (self.after_space || self.left == 0) {
                out.push_str("&nbsp;");
            } else {
                escape_char(c, out);
            }
            self.after_space = c == ' ';
        }
    }
}

/// Escapes text and attribute values alike.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        escape_char(c, &mut out);
    }
    out
}

fn escape_char(c: char, out: &mut String) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#39;"),
        _ => out.push(c),
    }
}
