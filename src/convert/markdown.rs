//! Markdown export (CommonMark plus GFM strikethrough and task lists): `#` headings, `**bold**`, `*italic*`,
//! `~~strike~~`, `` `code` ``, `[links](url)`, `<u>underline</u>` (Markdown has none), `-` / `1.` lists nested
//! by indent, `- [ ]` / `- [x]` check lists, `>` quotes, fenced code blocks and GFM tables (the first row is
//! the header, every row as wide as the widest, `|` escaped in cells). Text is escaped so that reading
//! the output back gives the same document; each line is checked by reading it back, and a line whose
//! delimiters would not parse as meant is written with `<strong>`-style tags instead.

use super::import_markdown;
use super::inline::{self, Event, Mark};
use super::model::{
    Block, Line, ListKind, Marks, Span, column_count, groups, lines_of, push_span, rows,
};
use crate::ot::Delta;

pub fn export(delta: &Delta) -> String {
    write(&lines_of(delta))
}

/// The Markdown of `lines`: blocks separated by blank lines, ending with a newline; the empty document is "".
pub fn write(lines: &[Line]) -> String {
    if let [only] = lines
        && only.block == Block::Paragraph
        && only.is_empty()
    {
        return String::new();
    }
    let parts: Vec<String> = groups(lines).into_iter().map(write_group).collect();
    parts.join("\n")
}

fn write_group(group: &[Line]) -> String {
    let first = &group[0];
    match &first.block {
        Block::Paragraph => format!("{}\n", content(first)),
        Block::Header(level) => format!("{} {}\n", "#".repeat(usize::from(*level)), content(first)),
        Block::Quote => {
            let quoted: Vec<String> = group.iter().map(|l| format!("> {}", content(l))).collect();
            format!("{}\n", quoted.join("\n>\n"))
        }
        Block::Code(language) => write_code(group, language.as_deref()),
        Block::List(..) => write_list(group),
        Block::Cell(_) => write_table(group),
    }
}

/// A GFM table. Markdown has no table without a header, so the first row is it; an empty cell is empty (a
/// `<br>` would read back as a space), and short rows get empty cells, as GFM itself pads them.
fn write_table(table: &[Line]) -> String {
    let columns = column_count(table);
    let mut out = String::new();
    for (index, row) in rows(table).into_iter().enumerate() {
        let mut cells: Vec<String> = row.iter().map(cell_markdown).collect();
        cells.resize(columns, String::new());
        out.push_str(&table_row(&cells));
        if index == 0 {
            out.push_str(&table_row(&vec!["---".to_string(); columns]));
        }
    }
    out
}

fn table_row(cells: &[String]) -> String {
    let padded: Vec<String> = cells
        .iter()
        .map(|cell| {
            if cell.is_empty() {
                " ".into()
            } else {
                format!(" {cell} ")
            }
        })
        .collect();
    format!("|{}|\n", padded.join("|"))
}

/// A cell's inline Markdown with every `|` escaped: GFM splits a row at each unescaped pipe before it reads
/// any inline syntax, code spans included, and takes `\|` back as `|` there too.
fn cell_markdown(cell: &Line) -> String {
    if cell.is_empty() {
        return String::new();
    }
    inline_markdown(&cell.spans).replace('|', "\\|")
}

/// A line's inline Markdown; an empty line is `<br>`, which the importer reads as "this line is empty".
fn content(line: &Line) -> String {
    if line.is_empty() {
        "<br>".into()
    } else {
        inline_markdown(&line.spans)
    }
}

fn write_code(group: &[Line], language: Option<&str>) -> String {
    let texts: Vec<String> = group.iter().map(Line::text).collect();
    let longest = texts.iter().map(|t| longest_run(t, '`')).max().unwrap_or(0);
    let fence = "`".repeat((longest + 1).max(3));
    let info = language.filter(|lang| {
        lang.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-#._".contains(c))
    });
    let mut out = format!("{fence}{}\n", info.unwrap_or(""));
    for text in texts {
        out.push_str(&text);
        out.push('\n');
    }
    out.push_str(&fence);
    out.push('\n');
    out
}

fn longest_run(text: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for ch in text.chars() {
        run = if ch == c { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// One list level: whether it is ordered, the column its items' content starts at, and its item count.
struct Level {
    ordered: bool,
    col: usize,
    count: usize,
}

/// Nested lists by indent: children start at their parent's content column (2 after `-`, 3 after `1.`).
/// A level with no item of its own (indent jumping by more than one) gets a bare `-`, read back as no line.
fn write_list(group: &[Line]) -> String {
    let mut out = String::new();
    let mut stack: Vec<Level> = Vec::new();
    let mut bare_last = false;
    for (index, line) in group.iter().enumerate() {
        let Block::List(kind, indent) = line.block else {
            continue;
        };
        let level = usize::from(indent);
        let ordered = kind == ListKind::Ordered;
        stack.truncate(level + 1);
        if stack.len() == level + 1 && stack[level].ordered != ordered {
            stack.truncate(level);
        }
        while stack.len() < level {
            let col = stack.last().map_or(0, |l| l.col);
            // After a line of text, a bare `-` would underline it as a heading; a blank line prevents that.
            if !out.is_empty() && !out.ends_with("\n\n") && !bare_last {
                out.push('\n');
            }
            out.push_str(&format!("{}-\n", " ".repeat(col)));
            bare_last = true;
            stack.push(Level {
                ordered: false,
                col: col + 2,
                count: 1,
            });
        }
        let col = if level == 0 { 0 } else { stack[level - 1].col };
        if stack.len() == level {
            stack.push(Level {
                ordered,
                col,
                count: 0,
            });
        }
        let entry = &mut stack[level];
        entry.count += 1;
        let marker = if ordered {
            format!("{}.", entry.count)
        } else {
            "-".into()
        };
        entry.col = col + marker.len() + 1;
        let task = match kind {
            ListKind::Checked => "[x] ",
            ListKind::Unchecked => "[ ] ",
            _ => "",
        };
        out.push_str(&format!(
            "{}{marker} {task}{}\n",
            " ".repeat(col),
            content(line)
        ));
        bare_last = false;
        // `<br>` starts an HTML block, which only a blank line ends: keep a child out of it.
        let deeper_next = group
            .get(index + 1)
            .is_some_and(|next| matches!(next.block, Block::List(_, i) if i > indent));
        if line.is_empty() && deeper_next {
            out.push('\n');
        }
    }
    out
}

/// The Markdown of one line's spans, checked by reading it back. Where delimiters would not parse as meant
/// (`**a *b***`-style runs, emphasis next to punctuation), the fewest marks possible are written as tags.
pub fn inline_markdown(spans: &[Span]) -> String {
    let spans = shift_edge_whitespace(spans);
    let expected = vec![Line {
        spans: spans.clone(),
        block: Block::Paragraph,
    }];
    let mut last = String::new();
    for tags in TAG_CHOICES {
        last = render(&spans, tags);
        if import_markdown::lines(&last) == expected {
            break;
        }
    }
    last
}

/// Which of italic, bold and strike to write as HTML tags, tried in order.
const TAG_CHOICES: [Tags; 8] = {
    const fn t(italic: bool, bold: bool, strike: bool) -> Tags {
        Tags {
            italic,
            bold,
            strike,
        }
    }
    [
        t(false, false, false),
        t(true, false, false),
        t(false, true, false),
        t(false, false, true),
        t(true, true, false),
        t(true, false, true),
        t(false, true, true),
        t(true, true, true),
    ]
};

#[derive(Debug, Clone, Copy)]
struct Tags {
    italic: bool,
    bold: bool,
    strike: bool,
}

/// Moves whitespace at the edges of bold, italic and strike runs out of them: `** a**` is not bold in
/// Markdown. The text stays the same.
fn shift_edge_whitespace(spans: &[Span]) -> Vec<Span> {
    let needs = spans
        .iter()
        .any(|s| s.marks.bold || s.marks.italic || s.marks.strike);
    if !needs {
        return spans.to_vec();
    }
    let mut chars: Vec<(char, Marks)> = spans
        .iter()
        .flat_map(|s| s.text.chars().map(move |c| (c, s.marks.clone())))
        .collect();
    trim_runs(&mut chars, |m| &mut m.bold);
    trim_runs(&mut chars, |m| &mut m.italic);
    trim_runs(&mut chars, |m| &mut m.strike);
    let mut res = Vec::new();
    let mut buf = [0u8; 4];
    for (c, marks) in &chars {
        push_span(&mut res, c.encode_utf8(&mut buf), marks);
    }
    res
}

fn trim_runs(chars: &mut [(char, Marks)], flag: impl Fn(&mut Marks) -> &mut bool) {
    let mut index = 0;
    while index < chars.len() {
        if !*flag(&mut chars[index].1) {
            index += 1;
            continue;
        }
        let start = index;
        while index < chars.len() && *flag(&mut chars[index].1) {
            index += 1;
        }
        let mut from = start;
        while from < index && chars[from].0.is_whitespace() {
            *flag(&mut chars[from].1) = false;
            from += 1;
        }
        let mut to = index;
        while to > from && chars[to - 1].0.is_whitespace() {
            *flag(&mut chars[to - 1].1) = false;
            to -= 1;
        }
    }
}

/// Writes the spans with Markdown delimiters, or with HTML tags for the marks `tags` names.
fn render(spans: &[Span], tags: Tags) -> String {
    let mut writer = Writer {
        out: String::new(),
        tags,
        code: None,
    };
    for event in inline::events(spans) {
        writer.event(event);
    }
    protect_edges(&writer.out)
}

struct Writer {
    out: String,
    tags: Tags,
    code: Option<String>,
}

impl Writer {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Text(text) => match &mut self.code {
                Some(code) => code.push_str(text),
                None => self.text(text),
            },
            Event::Image(image) => {
                self.out.push_str("![");
                self.text(image.alt.as_deref().unwrap_or(""));
                self.out
                    .push_str(&format!("]({})", destination(&image.src)));
            }
            Event::Open(Mark::Code) => self.code = Some(String::new()),
            Event::Close(Mark::Code) => {
                let code = self.code.take().unwrap_or_default();
                self.code_span(&code);
            }
            Event::Open(Mark::Link(_)) => {
                // `![` would start an image.
                if self.out.ends_with('!') {
                    self.out.pop();
                    self.out.push_str("\\!");
                }
                self.out.push('[');
            }
            Event::Close(Mark::Link(url)) => {
                self.out.push_str(&format!("]({})", destination(&url)));
            }
            Event::Open(mark) => self.out.push_str(self.delimiter(&mark, true)),
            Event::Close(mark) => self.out.push_str(self.delimiter(&mark, false)),
        }
    }

    fn delimiter(&self, mark: &Mark, open: bool) -> &'static str {
        let tags = match mark {
            Mark::Bold => self.tags.bold,
            Mark::Italic => self.tags.italic,
            Mark::Strike => self.tags.strike,
            _ => true,
        };
        match (mark, tags, open) {
            (Mark::Underline, _, true) => "<u>",
            (Mark::Underline, _, false) => "</u>",
            (Mark::Bold, false, _) => "**",
            (Mark::Italic, false, _) => "*",
            (Mark::Strike, false, _) => "~~",
            (Mark::Bold, true, true) => "<strong>",
            (Mark::Bold, true, false) => "</strong>",
            (Mark::Italic, true, true) => "<em>",
            (Mark::Italic, true, false) => "</em>",
            (Mark::Strike, true, true) => "<s>",
            (Mark::Strike, true, false) => "</s>",
            _ => "",
        }
    }

    /// A code span fenced by more backticks than it holds; one at the very start of a line that would read
    /// as a code fence is written as `<code>` with escaped text instead.
    fn code_span(&mut self, code: &str) {
        let fence = "`".repeat(longest_run(code, '`') + 1);
        if self.out.is_empty() && fence.len() >= 3 {
            self.out.push_str("<code>");
            self.text(code);
            self.out.push_str("</code>");
            return;
        }
        let trimmed = code.trim_matches(' ');
        let pad = code.starts_with('`')
            || code.ends_with('`')
            || (code.starts_with(' ') && code.ends_with(' ') && !trimmed.is_empty());
        let pad = if pad { " " } else { "" };
        self.out
            .push_str(&format!("{fence}{pad}{code}{pad}{fence}"));
    }

    /// Appends text with every character that could start Markdown syntax escaped.
    fn text(&mut self, text: &str) {
        let chars: Vec<char> = text.chars().collect();
        for (index, &c) in chars.iter().enumerate() {
            if self.needs_escape(c, chars.get(index + 1).copied()) {
                self.out.push('\\');
            }
            self.out.push(c);
        }
    }

    fn needs_escape(&self, c: char, next: Option<char>) -> bool {
        let at_start = self.out.is_empty();
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '~' => true,
            '>' | '-' | '+' | '=' => at_start,
            '#' => at_start || self.out.ends_with([' ', '\t']),
            '&' => next.is_some_and(|n| n.is_ascii_alphanumeric() || n == '#'),
            '.' | ')' => {
                !self.out.is_empty()
                    && self.out.len() <= 9
                    && self.out.bytes().all(|b| b.is_ascii_digit())
            }
            _ => false,
        }
    }
}

/// Leading and trailing spaces and tabs as character references: Markdown would strip them.
fn protect_edges(text: &str) -> String {
    let body = text.trim_start_matches([' ', '\t']);
    let lead = &text[..text.len() - body.len()];
    let core = body.trim_end_matches([' ', '\t']);
    let trail = &body[core.len()..];
    let encode = |ws: &str| -> String {
        ws.chars()
            .map(|c| if c == '\t' { "&#9;" } else { "&#32;" })
            .collect()
    };
    format!("{}{core}{}", encode(lead), encode(trail))
}

/// A link destination: `<...>` when it holds whitespace, with Markdown's special characters escaped.
fn destination(url: &str) -> String {
    let mut out = String::new();
    for c in url.chars() {
        if "\\()<>&".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    if url.contains(char::is_whitespace) {
        format!("<{out}>")
    } else {
        out
    }
}
