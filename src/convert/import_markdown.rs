//! Markdown import with pulldown-cmark (CommonMark, the reference-tested parser behind rustdoc and mdBook,
//! plus GFM strikethrough, task lists and tables): every paragraph, heading, list item, quote paragraph, code
//! line and table cell becomes a line of the document. Inline `<u>`, `<strong>`, `<em>`, `<s>`, `<code>` and `<br>` are
//! understood; other HTML blocks go through the HTML importer; images become image embeds with their alt text
//! and URL as written (the caller decides what an image URL may be).

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd};

use super::import_html;
use super::model::{
    Block, Image, Line, ListKind, MAX_INDENT, MarkCounts, Marks, Span, code_lines, delta_of,
    line_endings_as_spaces, push_image, push_span, row_id, safe_link,
};
use crate::ot::Delta;

pub fn import(text: &str) -> Delta {
    delta_of(&lines(text))
}

/// The document lines of a Markdown text.
pub fn lines(text: &str) -> Vec<Line> {
    let options =
        Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS | Options::ENABLE_TABLES;
    let mut reader = Reader::default();
    for event in Parser::new_ext(text, options) {
        reader.event(event);
    }
    reader.finish()
}

/// One open list item: its kind, whether it has written a line, and whether a list is nested in it.
struct Item {
    kind: ListKind,
    has_line: bool,
    nested: bool,
}

#[derive(Default)]
struct Reader {
    lines: Vec<Line>,
    spans: Vec<Span>,
    counts: MarkCounts,
    links: Vec<Option<String>>,
    /// Whether each open list is ordered.
    lists: Vec<bool>,
    items: Vec<Item>,
    /// `lines.len()` when each open quote started.
    quotes: Vec<usize>,
    heading: Option<u8>,
    code: Option<(Option<String>, String)>,
    html: Option<String>,
    /// A `<br>` said the current line is there even though it is empty.
    explicit_empty: bool,
    /// The image being read: its text events are its alt text.
    image: Option<Image>,
    /// The id of the table row being read, and how many rows the document has had.
    row: Option<String>,
    rows: usize,
}

impl Reader {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => self.text(&text),
            Event::Code(text) => {
                self.counts.code += 1;
                self.text(&text);
                self.counts.code -= 1;
            }
            Event::Html(html) => self.html.get_or_insert_default().push_str(&html),
            Event::InlineHtml(html) => self.inline_html(&html),
            Event::SoftBreak => self.text(" "),
            Event::HardBreak => self.line_break(),
            Event::TaskListMarker(checked) => {
                if let Some(item) = self.items.last_mut() {
                    item.kind = if checked {
                        ListKind::Checked
                    } else {
                        ListKind::Unchecked
                    };
                }
            }
            _ => {}
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Heading { level, .. } => {
                self.start_block();
                self.heading = Some(heading_level(level));
            }
            Tag::BlockQuote(_) => {
                self.start_block();
                self.quotes.push(self.lines.len());
            }
            Tag::CodeBlock(kind) => {
                self.start_block();
                self.code = Some((code_language(&kind), String::new()));
            }
            Tag::HtmlBlock => {
                self.start_block();
                self.html = Some(String::new());
            }
            Tag::List(first) => {
                self.start_block();
                if let Some(item) = self.items.last_mut() {
                    item.nested = true;
                }
                self.lists.push(first.is_some());
            }
            Tag::Item => self.items.push(Item {
                kind: if self.lists.last() == Some(&true) {
                    ListKind::Ordered
                } else {
                    ListKind::Bullet
                },
                has_line: false,
                nested: false,
            }),
            // GFM pads short rows with empty cells and drops extra ones, so every row is as wide as the header.
            Tag::TableHead | Tag::TableRow => {
                self.rows += 1;
                self.row = Some(row_id(self.rows));
            }
            Tag::Emphasis => self.counts.italic += 1,
            Tag::Strong => self.counts.bold += 1,
            Tag::Strikethrough => self.counts.strike += 1,
            Tag::Link {
                link_type,
                dest_url,
                ..
            } => {
                // An e-mail autolink (`<a@b.test>`) carries the bare address; CommonMark makes it a mailto: link.
                let url = match link_type {
                    LinkType::Email => format!("mailto:{dest_url}"),
                    _ => dest_url.to_string(),
                };
                self.links.push(Some(url).filter(|url| safe_link(url)));
            }
            Tag::Image { dest_url, .. } => {
                self.image = Some(Image {
                    src: dest_url.to_string(),
                    ..Image::default()
                });
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => self.flush(),
            TagEnd::Heading(_) => {
                self.flush();
                self.heading = None;
            }
            TagEnd::BlockQuote(_) => {
                if self.quotes.last() == Some(&self.lines.len()) {
                    self.flush();
                }
                self.quotes.pop();
            }
            TagEnd::CodeBlock => self.end_code(),
            TagEnd::HtmlBlock => self.end_html(),
            TagEnd::List(_) => {
                self.lists.pop();
            }
            TagEnd::Item => {
                let item = self.items.last();
                let bare = item.is_some_and(|item| !item.has_line && !item.nested);
                if !self.spans.is_empty() || self.explicit_empty || bare {
                    self.flush();
                }
                self.items.pop();
            }
            TagEnd::TableCell => self.flush(),
            TagEnd::TableHead | TagEnd::TableRow => self.row = None,
            TagEnd::Emphasis => self.counts.italic = self.counts.italic.saturating_sub(1),
            TagEnd::Strong => self.counts.bold = self.counts.bold.saturating_sub(1),
            TagEnd::Strikethrough => self.counts.strike = self.counts.strike.saturating_sub(1),
            TagEnd::Link => {
                self.links.pop();
            }
            TagEnd::Image => {
                if let Some(mut image) = self.image.take() {
                    image.alt = image.alt.filter(|alt| !alt.is_empty());
                    push_image(&mut self.spans, image);
                }
            }
            _ => {}
        }
    }

    fn text(&mut self, text: &str) {
        if let Some(image) = &mut self.image {
            image
                .alt
                .get_or_insert_default()
                .push_str(&line_endings_as_spaces(text));
        } else if let Some((_, code)) = &mut self.code {
            code.push_str(text);
        } else if let Some(html) = &mut self.html {
            html.push_str(text);
        } else {
            // A line ending reaches inline text only through a character reference such as `&#13;`.
            let marks = self.marks();
            push_span(&mut self.spans, &line_endings_as_spaces(text), &marks);
        }
    }

    fn marks(&self) -> Marks {
        self.counts.marks(self.links.last().cloned().flatten())
    }

    /// The format of the line being read.
    fn block(&self) -> Block {
        if let Some(row) = &self.row {
            return Block::Cell(row.clone());
        }
        if let Some(level) = self.heading {
            return Block::Header(level);
        }
        if let Some(item) = self.items.last() {
            let depth = self
                .lists
                .len()
                .saturating_sub(1)
                .min(usize::from(MAX_INDENT));
            return Block::List(item.kind, depth as u8);
        }
        if self.quotes.is_empty() {
            Block::Paragraph
        } else {
            Block::Quote
        }
    }

    fn flush(&mut self) {
        let line = Line {
            spans: std::mem::take(&mut self.spans),
            block: self.block(),
        };
        self.lines.push(line);
        self.explicit_empty = false;
        if let Some(item) = self.items.last_mut() {
            item.has_line = true;
        }
    }

    /// Text read so far (a tight list item's) ends before a new block starts.
    fn start_block(&mut self) {
        if !self.spans.is_empty() || self.explicit_empty {
            self.flush();
        }
    }

    /// `<br>` or a hard break: a new line of the same kind, or on an empty line, a sign that it is there.
    fn line_break(&mut self) {
        if self.row.is_some() {
            // A cell is one line.
            self.text(" ");
        } else if self.spans.is_empty() {
            self.explicit_empty = true;
        } else {
            self.flush();
        }
    }

    fn end_code(&mut self) {
        if let Some((language, text)) = self.code.take() {
            self.lines.extend(code_lines(&text, language.as_deref()));
        }
    }

    fn end_html(&mut self) {
        let html = self.html.take().unwrap_or_default();
        if is_br(html.trim()) {
            self.explicit_empty = true;
            if self.items.is_empty() {
                self.flush();
            }
            return;
        }
        let block = self.block();
        for mut line in import_html::lines(&html) {
            if line.block == Block::Paragraph {
                line.block = block.clone();
            }
            self.lines.push(line);
        }
        if let Some(item) = self.items.last_mut() {
            item.has_line = true;
        }
    }

    fn inline_html(&mut self, html: &str) {
        let Some((closing, name)) = tag_name(html) else {
            return;
        };
        if name == "br" {
            self.line_break();
            return;
        }
        let Some(count) = self.counts.for_tag(&name) else {
            return;
        };
        *count = if closing {
            count.saturating_sub(1)
        } else {
            *count + 1
        };
    }

    fn finish(mut self) -> Vec<Line> {
        if !self.spans.is_empty() {
            self.flush();
        }
        self.lines
    }
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        _ => 3,
    }
}

fn code_language(kind: &CodeBlockKind<'_>) -> Option<String> {
    let CodeBlockKind::Fenced(info) = kind else {
        return None;
    };
    let language = info.split_whitespace().next()?;
    (language != "plain").then(|| language.to_string())
}

fn is_br(html: &str) -> bool {
    ["<br>", "<br/>", "<br />"]
        .iter()
        .any(|br| html.eq_ignore_ascii_case(br))
}

/// `(closing, lower-case name)` of a tag such as `<strong>`, `</u>` or `<br/>`.
fn tag_name(html: &str) -> Option<(bool, String)> {
    let inner = html.strip_prefix('<')?;
    let (closing, inner) = match inner.strip_prefix('/') {
        Some(rest) => (true, rest),
        None => (false, inner),
    };
    let name: String = inner
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    (!name.is_empty()).then(|| (closing, name.to_ascii_lowercase()))
}
