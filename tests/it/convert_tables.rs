//! Tables in export and import (issue 16): Quill's `table` line format (each cell a line carrying its row's
//! id) as `<table>` in HTML, a GitHub table in Markdown and a line per cell in text; documents with tables and
//! formatted cells come back the same (row ids aside) from HTML and Markdown; ragged and odd tables from
//! elsewhere are padded or read sensibly, never a panic; imported row ids pass the server's op checks.

use quire::{
    convert::{
        self, Format,
        model::{self, Block, Line},
    },
    ot::{self, Delta, OtLimits},
};
use serde_json::{Value, json};

fn attrs(value: Value) -> Option<serde_json::Map<String, Value>> {
    value.as_object().cloned()
}

fn cell(row: &str) -> Option<serde_json::Map<String, Value>> {
    attrs(json!({ "table": row }))
}

/// A heading, a 3×3 table with a header row and formatted cells (bold, italic, code, a link, a pipe, an empty
/// cell, spaces at the edges), and a paragraph after it, with row ids as Quill makes them.
fn document() -> Delta {
    Delta::new()
        .insert("Stock", None)
        .insert("\n", attrs(json!({"header": 2})))
        .insert("Item", None)
        .insert("\n", cell("row-ab12"))
        .insert("Qty", attrs(json!({"bold": true})))
        .insert("\n", cell("row-ab12"))
        .insert("Note", None)
        .insert("\n", cell("row-ab12"))
        .insert(
            "Apples",
            attrs(json!({"link": "https://example.com/apples"})),
        )
        .insert("\n", cell("row-x9z0"))
        .insert("3", None)
        .insert("\n", cell("row-x9z0"))
        .insert("ripe", attrs(json!({"italic": true})))
        .insert(" and ", None)
        .insert("a|b", attrs(json!({"code": true})))
        .insert("\n", cell("row-x9z0"))
        .insert("Pears | plums", None)
        .insert("\n", cell("row-q7"))
        .insert("\n", cell("row-q7"))
        .insert(" edge ", None)
        .insert("\n", cell("row-q7"))
        .insert("After the table.\n", None)
}

/// The document with its row ids renumbered in order (row-1, row-2, ...): what two documents with the same
/// tables have in common, whoever made the ids.
fn renumbered(delta: &Delta) -> Delta {
    let mut ids: Vec<String> = Vec::new();
    let lines: Vec<Line> = model::lines_of(delta)
        .into_iter()
        .map(|mut line| {
            if let Block::Cell(id) = &line.block {
                if !ids.contains(id) {
                    ids.push(id.clone());
                }
                let n = ids.iter().position(|known| known == id).unwrap_or(0) + 1;
                line.block = Block::Cell(format!("row-{n}"));
            }
            line
        })
        .collect();
    model::delta_of(&lines)
}

/// Each table row of a document as its cells' texts.
fn table_rows(delta: &Delta) -> Vec<Vec<String>> {
    let lines = model::lines_of(delta);
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    for line in &lines {
        let Block::Cell(id) = &line.block else {
            continue;
        };
        match rows.last_mut() {
            Some((last, cells)) if last == id => cells.push(line.text()),
            _ => rows.push((id.clone(), vec![line.text()])),
        }
    }
    rows.into_iter().map(|(_, cells)| cells).collect()
}

/// The document as the server would take it from a client: every op passes the decoder's checks.
fn assert_valid_document(doc: &Delta) {
    let json = serde_json::to_value(doc).expect("JSON");
    if let Err(err) = ot::decode_change(&json, &OtLimits::default()) {
        panic!("the server would refuse {json}: {err}");
    }
}

#[test]
fn html_export_writes_a_table_as_quill_does() {
    let html = convert::export(&document(), Format::Html, "Stock");
    let table = "<table>\n<tbody>\n<tr>\n<td>Item</td>\n<td><strong>Qty</strong></td>\n<td>Note</td>\n</tr>\n\
                 <tr>\n<td><a href=\"https://example.com/apples\">Apples</a></td>\n<td>3</td>\n\
                 <td><em>ripe</em> and <code>a|b</code></td>\n</tr>\n\
                 <tr>\n<td>Pears | plums</td>\n<td></td>\n<td>&nbsp;edge&nbsp;</td>\n</tr>\n</tbody>\n</table>\n";
    assert!(html.contains(table), "{html}");
    assert!(
        html.contains("<style>") && html.contains("border-collapse"),
        "{html}"
    );
    let plain = convert::export(&Delta::new().insert("x\n", None), Format::Html, "x");
    assert!(
        !plain.contains("<style>"),
        "a page without a table has no CSS"
    );
}

#[test]
fn markdown_export_writes_a_github_table_with_pipes_escaped() {
    let md = convert::export(&document(), Format::Markdown, "Stock");
    let want = "## Stock\n\n\
                | Item | **Qty** | Note |\n\
                | --- | --- | --- |\n\
                | [Apples](https://example.com/apples) | 3 | *ripe* and `a\\|b` |\n\
                | Pears \\| plums | | &#32;edge&#32; |\n\n\
                After the table.\n";
    assert_eq!(md, want);
}

#[test]
fn text_export_puts_each_cell_on_a_line_as_quill_get_text() {
    let text = convert::export(&document(), Format::Text, "Stock");
    assert_eq!(
        text,
        "Stock\nItem\nQty\nNote\nApples\n3\nripe and a|b\nPears | plums\n\n edge \nAfter the table.\n"
    );
}

#[test]
fn a_document_with_a_table_round_trips_through_html_and_markdown() {
    let doc = document();
    for format in [Format::Html, Format::Markdown] {
        let exported = convert::export(&doc, format, "Stock");
        let back = convert::import(&exported, format);
        assert_eq!(
            renumbered(&back),
            renumbered(&doc),
            "{format:?} round trip of\n{exported}"
        );
        assert_valid_document(&back);
        // And once more: the second export is the first.
        assert_eq!(convert::export(&back, format, "Stock"), exported);
    }
}

#[test]
fn imported_rows_get_fresh_ids_of_the_shape_the_server_accepts() {
    let md = "| a | b |\n|---|---|\n| c | d |\n\n| e |\n|---|\n| f |\n";
    let doc = convert::import(md, Format::Markdown);
    let ids: Vec<String> = model::lines_of(&doc)
        .into_iter()
        .filter_map(|line| match line.block {
            Block::Cell(id) => Some(id),
            _ => None,
        })
        .collect();
    assert_eq!(
        ids,
        ["row-1", "row-1", "row-2", "row-2", "row-3", "row-4"],
        "{doc:?}"
    );
    assert_valid_document(&doc);
}

#[test]
fn ragged_tables_are_padded_to_their_widest_row() {
    let html = "<table><tr><td>a<td>b<td>c<tr><td>d</table><p>after</p>";
    let doc = convert::import(html, Format::Html);
    assert_eq!(table_rows(&doc), [vec!["a", "b", "c"], vec!["d", "", ""]]);
    assert_eq!(
        convert::export(&doc, Format::Text, ""),
        "a\nb\nc\nd\n\n\nafter\n"
    );
    // GFM itself pads a short row and drops the cells past the header's.
    let md = "| a | b |\n|---|---|\n| c |\n| d | e | f |\n";
    let doc = convert::import(md, Format::Markdown);
    assert_eq!(
        table_rows(&doc),
        [vec!["a", "b"], vec!["c", ""], vec!["d", "e"]]
    );
    // A hand-made ragged Delta exports a Markdown table as wide as its widest row.
    let ragged = Delta::new()
        .insert("a\nb\n", cell("row-1"))
        .insert("c\n", cell("row-2"));
    assert_eq!(
        convert::export(&ragged, Format::Markdown, ""),
        "| a | b |\n| --- | --- |\n| c | |\n"
    );
}

#[test]
fn html_tables_keep_inline_formats_and_drop_blocks_inside_cells() {
    let html = "<table><thead><tr><th><h1>Big</h1></th><th>Plain</th></tr></thead>\
                <tbody><tr><td><p>one <b>bold</b></p><p>two</p><ul><li><a href=\"https://x.test/\">link</a></li></ul></td>\
                <td>a<br>b</td></tr></tbody></table>";
    let doc = convert::import(html, Format::Html);
    assert_eq!(
        table_rows(&doc),
        [vec!["Big", "Plain"], vec!["one bold two link", "a b"]]
    );
    let lines = model::lines_of(&doc);
    let bold = &lines[2].spans[1];
    assert_eq!((bold.text.as_str(), bold.marks.bold), ("bold", true));
    let link = lines[2].spans.last().expect("the link");
    assert_eq!(link.marks.link.as_deref(), Some("https://x.test/"));
    assert_valid_document(&doc);
}

#[test]
fn odd_tables_from_elsewhere_never_panic() {
    let inputs = [
        "<td>cell outside a table</td>",
        "<tr><td>row outside a table",
        "<table><td>no row</td><td>still none</td></table>",
        "<table><tr><td>outer<table><tr><td>inner</td></tr></table></td></tr></table>",
        "<div><table><tr><td>x</div>y</td></tr></table>after</div>",
        "<table><caption>Caption</caption><tr><td>a</td></tr></table>",
        "<table>text in the table<tr><td>a</td></tr></table>",
        "<table><tr></tr><tr><td></td></tr></table>",
        "<table><tr><td><pre>code\nin a cell</pre></td></tr></table>",
        "<table>",
        "</td></tr></table>",
    ];
    for html in inputs {
        let doc = convert::import(html, Format::Html);
        assert_valid_document(&doc);
        assert!(doc.text().ends_with('\n'), "{html}");
    }
    let texts = |html: &str| {
        model::lines_of(&convert::import(html, Format::Html))
            .iter()
            .map(Line::text)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        texts("<td>cell outside a table</td>"),
        ["cell outside a table"]
    );
    assert_eq!(
        table_rows(&convert::import(
            "<table><td>no row</td><td>still none</td></table>",
            Format::Html
        )),
        [vec!["no row", "still none"]]
    );
    assert_eq!(
        texts("<div><table><tr><td>x</div>y</td></tr></table>after</div>"),
        ["xy", "after"]
    );
    assert_eq!(
        texts("<table><tr><td><pre>code\nin a cell</pre></td></tr></table>"),
        ["code in a cell"]
    );
}
