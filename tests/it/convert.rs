//! Export and import (issue 7): golden files for a document that uses every format, imports that give the
//! same document back, a stable Markdown round trip, HTML safety, and the HTTP routes and CLI around them.
//! `QUIRE_BLESS=1 cargo test --test it convert::` rewrites the golden files (review the diff before committing).

use std::path::PathBuf;

use proptest::prelude::*;
use quire::{
    convert::{self, Format},
    ot::{self, Delta, OtLimits},
};
use serde_json::{Value, json};

fn data_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/convert")
        .join(name)
}

fn golden_delta() -> Delta {
    let text = std::fs::read_to_string(data_path("all-formats.delta.json")).expect("golden delta");
    let value: Value = serde_json::from_str(&text).expect("golden delta JSON");
    Delta::from_json_unchecked(&value).expect("a Delta")
}

const GOLDEN: [(Format, &str); 3] = [
    (Format::Markdown, "all-formats.md"),
    (Format::Html, "all-formats.html"),
    (Format::Text, "all-formats.txt"),
];

fn golden(format: Format) -> String {
    let name = GOLDEN.iter().find(|(f, _)| *f == format).expect("format").1;
    std::fs::read_to_string(data_path(name)).expect("golden file")
}

fn md(input: &str) -> Delta {
    convert::import(input, Format::Markdown)
}

fn to_md(delta: &Delta) -> String {
    convert::export(delta, Format::Markdown, "")
}

#[test]
fn exports_match_the_golden_files() {
    let delta = golden_delta();
    for (format, name) in GOLDEN {
        let got = convert::export(&delta, format, "All formats");
        if std::env::var_os("QUIRE_BLESS").is_some() {
            std::fs::write(data_path(name), &got).expect("write golden file");
            continue;
        }
        assert_eq!(got, golden(format), "{name} differs from the export");
    }
}

#[test]
fn importing_the_golden_files_gives_the_same_document() {
    let delta = golden_delta();
    assert_eq!(md(&golden(Format::Markdown)), delta, "Markdown");
    assert_eq!(
        convert::import(&golden(Format::Html), Format::Html),
        delta,
        "HTML"
    );
    let plain = Delta::new().insert(delta.text(), None);
    assert_eq!(
        convert::import(&golden(Format::Text), Format::Text),
        plain,
        "text"
    );
}

#[test]
fn text_export_is_quills_get_text() {
    let delta = golden_delta();
    let text = convert::export(&delta, Format::Text, "");
    assert!(text.starts_with("Quire export\nEvery format\nSmall print\nPlain, bold, italic,"));
    assert!(text.ends_with("Inline `tick` code and a linked bold end.\n"));
    assert_eq!(text.matches('\n').count(), delta.lines().len());
}

/// md -> document -> md is a fixed point once written by us, and reading it again changes nothing.
fn assert_stable(input: &str) -> (Delta, String) {
    let first = md(input);
    let written = to_md(&first);
    let again = md(&written);
    assert_eq!(
        again, first,
        "re-reading changed the document\ninput:\n{input}\nwritten:\n{written}"
    );
    assert_eq!(
        to_md(&again),
        written,
        "re-writing changed the Markdown of\n{input}"
    );
    (first, written)
}

#[test]
fn the_golden_markdown_round_trips_unchanged() {
    let golden = golden(Format::Markdown);
    let (_, written) = assert_stable(&golden);
    assert_eq!(written, golden);
}

fn attrs(value: Value) -> Option<serde_json::Map<String, Value>> {
    value.as_object().cloned()
}

#[test]
fn special_characters_stay_text() {
    let input =
        "\\*not em\\* 2 \\< 3 \\# \\[x\\](y) a\\_b\\_c \\`tick\\` \\~\\~no\\~\\~ &amp;amp; \\\\\n";
    let (doc, _) = assert_stable(input);
    let want = "*not em* 2 < 3 # [x](y) a_b_c `tick` ~~no~~ &amp; \\\n";
    assert_eq!(doc, Delta::new().insert(want, None));
    for text in [
        "1. one",
        "- dash",
        "+ plus",
        "# hash",
        "> quote",
        "```",
        "    four",
        "<div>x</div>",
        "---",
        "a  b\t",
    ] {
        let doc = Delta::new().insert(format!("{text}\n"), None);
        let written = to_md(&doc);
        assert_eq!(md(&written), doc, "{text:?} written as {written:?}");
    }
}

#[test]
fn nested_lists_keep_their_depth_and_kind() {
    let input = "* a\n  1. b\n     - [x] c\n     - [ ] d\n* e\n+ f, in a new list\n";
    let (doc, written) = assert_stable(input);
    let want = Delta::new()
        .insert("a", None)
        .insert("\n", attrs(json!({"list": "bullet"})))
        .insert("b", None)
        .insert("\n", attrs(json!({"list": "ordered", "indent": 1})))
        .insert("c", None)
        .insert("\n", attrs(json!({"list": "checked", "indent": 2})))
        .insert("d", None)
        .insert("\n", attrs(json!({"list": "unchecked", "indent": 2})))
        .insert("e", None)
        .insert("\n", attrs(json!({"list": "bullet"})))
        .insert("f, in a new list", None)
        .insert("\n", attrs(json!({"list": "bullet"})));
    assert_eq!(doc, want, "written back as\n{written}");
    assert!(
        written.starts_with("- a\n  1. b\n     - [x] c\n"),
        "{written}"
    );
}

#[test]
fn indent_jumps_and_empty_items_survive() {
    let doc = Delta::new()
        .insert("deep", None)
        .insert("\n", attrs(json!({"list": "bullet", "indent": 2})))
        .insert("\n", attrs(json!({"list": "ordered"})))
        .insert("child of an empty item", None)
        .insert("\n", attrs(json!({"list": "ordered", "indent": 1})))
        .insert("\n", attrs(json!({"list": "unchecked"})))
        .insert("\n", attrs(json!({"blockquote": true})))
        .insert("\n", attrs(json!({"header": 2})))
        .insert("\n", None);
    let written = to_md(&doc);
    assert_eq!(md(&written), doc, "Markdown:\n{written}");
    let html = convert::export(&doc, Format::Html, "t");
    assert_eq!(convert::import(&html, Format::Html), doc, "HTML:\n{html}");
}

#[test]
fn code_with_backticks_and_fences() {
    let input =
        "Use `` a`b `` and ` `` `.\n\n````\n```\ninside\n```\n````\n\n~~~python\nx = '`'\n~~~\n";
    let (doc, written) = assert_stable(input);
    let code = attrs(json!({"code": true}));
    let want = Delta::new()
        .insert("Use ", None)
        .insert("a`b", code.clone())
        .insert(" and ", None)
        .insert("``", code)
        .insert(".\n", None)
        .insert("```", None)
        .insert("\n", attrs(json!({"code-block": true})))
        .insert("inside", None)
        .insert("\n", attrs(json!({"code-block": true})))
        .insert("```", None)
        .insert("\n", attrs(json!({"code-block": true})))
        .insert("x = '`'", None)
        .insert("\n", attrs(json!({"code-block": "python"})));
    assert_eq!(doc, want, "written back as\n{written}");
}

#[test]
fn tricky_emphasis_falls_back_to_tags_and_stays_faithful() {
    let bold = attrs(json!({"bold": true}));
    let cases = [
        Delta::new()
            .insert("a", None)
            .insert("\"q\"", bold.clone())
            .insert("b\n", None),
        Delta::new()
            .insert("x", bold.clone())
            .insert("y", attrs(json!({"italic": true})))
            .insert("\n", None),
        Delta::new()
            .insert("snake", None)
            .insert("_case_", attrs(json!({"italic": true})))
            .insert("\n", None),
        Delta::new().insert("**", bold).insert("\n", None),
    ];
    for doc in cases {
        let written = to_md(&doc);
        assert_eq!(md(&written), doc, "written as {written:?}");
        assert_eq!(to_md(&md(&written)), written);
    }
}

#[test]
fn html_escapes_text_and_drops_unsafe_links() {
    let link = |url: &str| attrs(json!({"link": url}));
    let doc = Delta::new()
        .insert("<script>alert(1)</script> & \"quotes\"", None)
        .insert("\n", None)
        .insert("bad", link("javascript:alert(1)"))
        .insert(" ", None)
        .insert("data", link("data:text/html,<b>x</b>"))
        .insert(" ", None)
        .insert("good", link("https://example.com/?a=1&b=\"2\""))
        .insert("\n", None);
    let html = convert::export(&doc, Format::Html, "<title> & co");
    assert!(!html.contains("<script>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;"),
        "{html}"
    );
    assert!(
        !html.contains("javascript:") && !html.contains("data:"),
        "{html}"
    );
    assert!(
        html.contains("<a href=\"https://example.com/?a=1&amp;b=&quot;2&quot;\">good</a>"),
        "{html}"
    );
    assert!(
        html.contains("<title>&lt;title&gt; &amp; co</title>"),
        "{html}"
    );
    assert!(
        html.contains("<p>bad data <a "),
        "the text of unsafe links stays: {html}"
    );
    let markdown = to_md(&doc);
    assert!(!markdown.contains("javascript:"), "{markdown}");
}

#[test]
fn imports_drop_unsafe_links_and_scripts() {
    let doc = convert::import(
        "<p><a href=\"javascript:alert(1)\">x</a><script>alert(2)</script><a href='https://a.test'>y</a></p>",
        Format::Html,
    );
    let want = Delta::new()
        .insert("x", None)
        .insert("y", attrs(json!({"link": "https://a.test"})))
        .insert("\n", None);
    assert_eq!(doc, want);
    assert_eq!(
        md("[x](javascript:alert(1))\n"),
        Delta::new().insert("x\n", None)
    );
}

#[test]
fn html_from_elsewhere_reads_sensibly() {
    let input = "<html><head><title>T</title><style>p{}</style></head><body>\n<h4>Deep</h4>\n<p>one\n  two <b>three</b></p>\n\
                 <ol><li data-list=\"bullet\">q</li><li><input type=checkbox checked> done</li></ol><div>plain</div></body></html>";
    let doc = convert::import(input, Format::Html);
    let want = Delta::new()
        .insert("Deep", None)
        .insert("\n", attrs(json!({"header": 3})))
        .insert("one two ", None)
        .insert("three", attrs(json!({"bold": true})))
        .insert("\n", None)
        .insert("q", None)
        .insert("\n", attrs(json!({"list": "bullet"})))
        .insert(" done", None)
        .insert("\n", attrs(json!({"list": "checked"})))
        .insert("plain\n", None);
    assert_eq!(doc, want);
    assert_eq!(convert::html_title(input).as_deref(), Some("T"));
}

/// Why the op validator would refuse `doc` as a change from a client, if it would. The import route stores an
/// import as the document's first version without that check, so an import must pass it by construction: in
/// particular no `\r` (PROTOCOL.md), or the browser's copy differs from the server's.
fn refused(doc: &Delta) -> Option<String> {
    if doc.text().contains('\r') {
        return Some("its text holds \\r".into());
    }
    ot::decode_change(&doc.to_json(), &OtLimits::default())
        .err()
        .map(|err| err.to_string())
}

fn assert_valid_document(doc: &Delta, what: &str) {
    if let Some(why) = refused(doc) {
        panic!("{what}: the op validator refuses {doc:?}: {why}");
    }
}

fn code_lines(lines: &[&str]) -> Delta {
    lines.iter().fold(Delta::new(), |delta, line| {
        delta
            .insert(*line, None)
            .insert("\n", attrs(json!({"code-block": true})))
    })
}

#[test]
fn imports_turn_every_line_ending_into_a_newline() {
    let cases = [
        (
            Format::Html,
            "<pre>a\r\nb\rc</pre>",
            code_lines(&["a", "b", "c"]),
        ),
        (Format::Html, "<pre>a\r\nb", code_lines(&["a", "b"])),
        (
            Format::Html,
            "<pre>a&#13;&#10;b&#13;c&#x0D;</pre>",
            code_lines(&["a", "b", "c"]),
        ),
        (
            Format::Html,
            "<p>a&#13;b\r\nc</p>",
            Delta::new().insert("a b c\n", None),
        ),
        (
            Format::Text,
            "a\r\nb\rc\r\n",
            Delta::new().insert("a\nb\nc\n", None),
        ),
        (
            Format::Markdown,
            "a\r\nb\r\n\r\n```\r\nx\r\ny\r\n```\r\n",
            Delta::new()
                .insert("a b\n", None)
                .concat(&code_lines(&["x", "y"])),
        ),
        (
            Format::Markdown,
            "a&#13;b\n\n    x&#13;\r\n<pre>y\r\nz</pre>\r\n",
            Delta::new()
                .insert("a b\n", None)
                .concat(&code_lines(&["x&#13;", "y", "z"])),
        ),
    ];
    let wrong: Vec<String> = cases
        .into_iter()
        .filter_map(|(format, input, want)| {
            let doc = convert::import(input, format);
            let why = refused(&doc);
            (why.is_some() || doc != want)
                .then(|| format!("{format:?} {input:?}: {why:?}, {doc:?}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn crlf_golden_files_import_as_the_same_document() {
    let delta = golden_delta();
    for (format, name) in GOLDEN {
        let crlf = golden(format).replace('\n', "\r\n");
        let doc = convert::import(&crlf, format);
        assert_valid_document(&doc, name);
        if format != Format::Text {
            assert_eq!(doc, delta, "{name} with CRLF line endings");
        }
    }
}

#[test]
fn a_head_left_open_keeps_the_body() {
    let input = "<html><head><title>T</title><body><p>Hello</p>";
    assert_eq!(
        convert::import(input, Format::Html),
        Delta::new().insert("Hello\n", None)
    );
    assert_eq!(convert::html_title(input).as_deref(), Some("T"));
    let no_body = "<head><title>T</title><p>Hello";
    assert_eq!(
        convert::import(no_body, Format::Html),
        Delta::new().insert("Hello\n", None)
    );
}

#[test]
fn named_character_references_decode() {
    let doc = convert::import(
        "<p>a&mdash;b&nbsp;c&eacute;&hellip; &copy 2&lt;3 &bogus; <a href=\"https://a.test/?x=1&amp;y=&eacute;\">l</a></p>",
        Format::Html,
    );
    let want = Delta::new()
        // `&nbsp;` is a space, as Quill's clipboard reads it (the export writes spaces a browser would collapse so).
        .insert("a\u{2014}b c\u{e9}\u{2026} \u{a9} 2<3 &bogus; ", None)
        .insert("l", attrs(json!({"link": "https://a.test/?x=1&y=\u{e9}"})))
        .insert("\n", None);
    assert_eq!(doc, want);
    assert_valid_document(&doc, "entities");
}

const WITH_SPACES: &str = "[a-c *_`~#<>&\\[\\]\\\\!1.\\-+é😀 ]{0,6}";
const NO_SPACES: &str = "[a-c*_`~#<>&\\[\\]\\\\!1.\\-+é😀]{1,6}";

fn arb_marks() -> impl Strategy<Value = Option<serde_json::Map<String, Value>>> {
    (
        any::<[bool; 5]>(),
        prop::option::of(prop::sample::select(vec![
            "https://a.test/x",
            "mailto:m@a.test",
            "http://b.test/(p)?q=1&r",
        ])),
    )
        .prop_map(|(flags, link)| {
            let mut map = serde_json::Map::new();
            for (on, name) in flags
                .iter()
                .zip(["bold", "italic", "underline", "strike", "code"])
            {
                if *on {
                    map.insert(name.into(), Value::Bool(true));
                }
            }
            if let Some(link) = link {
                map.insert("link".into(), json!(link));
            }
            Some(map).filter(|m| !m.is_empty())
        })
}

fn arb_block() -> impl Strategy<Value = Option<serde_json::Map<String, Value>>> {
    prop_oneof![
        Just(None),
        (1u8..=3).prop_map(|h| attrs(json!({"header": h}))),
        (
            prop::sample::select(vec!["bullet", "ordered", "checked", "unchecked"]),
            0u8..4
        )
            .prop_map(|(kind, indent)| if indent == 0 {
                attrs(json!({"list": kind}))
            } else {
                attrs(json!({"list": kind, "indent": indent}))
            }),
        Just(attrs(json!({"blockquote": true}))),
        Just(attrs(json!({"code-block": true}))),
    ]
}

fn arb_doc(text: &'static str) -> impl Strategy<Value = Delta> {
    let span = (text, arb_marks());
    let line = (prop::collection::vec(span, 0..4), arb_block());
    prop::collection::vec(line, 1..6).prop_map(|lines| {
        let mut delta = Delta::new();
        for (spans, block) in lines {
            let code = block.as_ref().is_some_and(|b| b.contains_key("code-block"));
            for (text, marks) in spans {
                delta = delta.insert(text, if code { None } else { marks });
            }
            delta = delta.insert("\n", block);
        }
        delta
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// HTML keeps everything the model holds.
    #[test]
    fn html_round_trip_is_exact(doc in arb_doc(WITH_SPACES)) {
        let html = convert::export(&doc, Format::Html, "t");
        prop_assert_eq!(convert::import(&html, Format::Html), doc, "{}", html);
    }

    /// Markdown may move spaces out of emphasis, but reading what it wrote gives a fixed point.
    #[test]
    fn markdown_round_trip_is_stable(doc in arb_doc(WITH_SPACES)) {
        let written = to_md(&doc);
        let read = md(&written);
        prop_assert_eq!(&to_md(&read), &written);
        prop_assert_eq!(read.text(), doc.text(), "{}", written);
    }

    /// Without spaces at the edges of emphasis, Markdown keeps the document exactly.
    #[test]
    fn markdown_round_trip_is_exact_without_spaces(doc in arb_doc(NO_SPACES)) {
        let written = to_md(&doc);
        prop_assert_eq!(md(&written), doc, "{}", written);
    }
}

mod over_http {
    //! The content and import routes, and `quire compact` / `quire doctor` against the server's database.

    use quire::{convert::Format, store::NewOp};
    use serde_json::Value;

    use super::{golden, golden_delta};
    use crate::hub_convergence::{api_setup, content};
    use crate::support::{TestServer, TestUser, get_text, run_quire};

    async fn import(
        server: &TestServer,
        token: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        reqwest::Client::new()
            .post(server.url("/api/docs/import?title=All%20formats"))
            .bearer_auth(token)
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .expect("POST /api/docs/import")
    }

    async fn export(server: &TestServer, token: &str, doc: &str, format: &str) -> (String, String) {
        let response = reqwest::Client::new()
            .get(server.url(&format!("/api/docs/{doc}/content?format={format}")))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET content");
        assert_eq!(response.status(), 200, "format={format}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string();
        (content_type, response.text().await.expect("body"))
    }

    #[tokio::test]
    async fn imported_documents_export_as_the_golden_files() {
        let server = TestServer::start().await;
        let (token, _) = api_setup(&server.base).await;
        let response = import(
            &server,
            &token,
            "text/markdown; charset=utf-8",
            golden(Format::Markdown),
        )
        .await;
        assert_eq!(response.status(), 201);
        let doc: Value = response.json().await.unwrap();
        let id = doc["id"].as_str().unwrap();
        assert_eq!(doc["title"], "All formats");
        let delta = content(&server.base, id, &token).await;
        assert_eq!(delta["ops"], golden_delta().to_json());
        let cases = [
            ("markdown", "text/markdown; charset=utf-8", Format::Markdown),
            ("html", "text/html; charset=utf-8", Format::Html),
            ("text", "text/plain; charset=utf-8", Format::Text),
        ];
        for (name, content_type, format) in cases {
            assert_eq!(
                export(&server, &token, id, name).await,
                (content_type.to_string(), golden(format))
            );
        }
        server.stop().await;
    }

    #[tokio::test]
    async fn html_import_from_the_dashboard_session_gives_the_same_document() {
        let server = TestServer::start().await;
        let user = TestUser::signup(&server, "Importer").await;
        let response = user
            .http
            .post(server.url("/api/docs/import"))
            .header("X-CSRF-Token", &user.csrf)
            .header("Content-Type", "text/html")
            .body(golden(Format::Html))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let doc: Value = response.json().await.unwrap();
        assert_eq!(
            doc["title"], "All formats",
            "the page title names the document"
        );
        assert_eq!(doc["owner"]["id"], user.id.as_str());
        let token = user.api_token(&server).await;
        let got = content(&server.base, doc["id"].as_str().unwrap(), &token).await;
        assert_eq!(got["ops"], golden_delta().to_json());
        assert_eq!(got["rev"], 0);
        server.stop().await;
    }

    /// The dashboard sends the file's name; a title the file names itself wins, and whatever a file names is
    /// made into a title rather than refused.
    #[tokio::test]
    async fn imported_files_take_the_title_they_name() {
        let server = TestServer::start().await;
        let (token, _) = api_setup(&server.base).await;
        let long_heading = format!("# {}\tend\n\nbody\n", "word ".repeat(60));
        let cases: [(&str, &str, &str, String); 5] = [
            (
                "filename=notes",
                "text/markdown",
                "# Trip to Lisbon\n\nDay one\n",
                "Trip to Lisbon".into(),
            ),
            (
                "filename=notes",
                "text/markdown",
                "Day one\n\n# Later heading\n",
                "notes".into(),
            ),
            (
                "title=Chosen&filename=notes",
                "text/markdown",
                "# Heading\n",
                "Chosen".into(),
            ),
            (
                "filename=a%09b",
                "text/plain",
                "# not a heading in text\n",
                "a b".into(),
            ),
            (
                "filename=x",
                "text/markdown",
                &long_heading,
                "word ".repeat(40).trim_end().chars().take(200).collect(),
            ),
        ];
        for (query, content_type, body, want) in cases {
            let response = reqwest::Client::new()
                .post(server.url(&format!("/api/docs/import?{query}")))
                .bearer_auth(&token)
                .header("Content-Type", content_type)
                .body(body.to_string())
                .send()
                .await
                .expect("POST /api/docs/import");
            assert_eq!(response.status(), 201, "{query} {body:?}");
            let doc: Value = response.json().await.unwrap();
            assert_eq!(
                doc["title"].as_str(),
                Some(want.as_str()),
                "{query} {body:?}"
            );
        }
        server.stop().await;
    }

    #[tokio::test]
    async fn the_dashboard_offers_an_import() {
        let server = TestServer::start().await;
        let user = TestUser::signup(&server, "Dash").await;
        let page = get_text(&user.http, server.url("/")).await;
        assert!(page.contains("id=\"import-file\""), "{page}");
        let script = get_text(&user.http, server.url("/assets/dashboard.js")).await;
        assert!(script.contains("/api/docs/import") && script.contains("X-CSRF-Token"));
        server.stop().await;
    }

    #[tokio::test]
    async fn bad_imports_are_clear_4xx() {
        let server = TestServer::start_with(&[("limits.max_doc_len", "1000")]).await;
        let (token, _) = api_setup(&server.base).await;
        let cases: [(&str, Vec<u8>, u16, &str); 4] = [
            ("text/plain", vec![b'a'; 5000], 413, "too_large"),
            ("text/plain", vec![b'a'; 2 << 20], 413, "too_large"),
            (
                "text/markdown",
                vec![b'a', 0xff, 0xfe, b'\n'],
                400,
                "bad_request",
            ),
            (
                "application/pdf",
                b"%PDF".to_vec(),
                415,
                "unsupported_media_type",
            ),
        ];
        for (content_type, body, status, code) in cases {
            let response = import(&server, &token, content_type, body).await;
            crate::support::expect_json_error(response, status, code).await;
        }
        server.stop().await;
    }

    async fn quire(server: &TestServer, args: &[&str]) -> (bool, String) {
        let mut all = server.cli_args();
        all.extend(args.iter().map(|arg| arg.to_string()));
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        let output = run_quire(server.dir.path(), &all, &[], "").await;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        (
            output.status.success(),
            stdout + &String::from_utf8_lossy(&output.stderr),
        )
    }

    /// A document with `n` logged ops appending "a", "b", ... after its empty start.
    async fn document_with_ops(server: &TestServer, token: &str, n: i64) -> String {
        let doc: Value = reqwest::Client::new()
            .post(server.url("/api/docs"))
            .bearer_auth(token)
            .json(&serde_json::json!({"title": "logged"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = doc["id"].as_str().unwrap().to_string();
        let ops: Vec<NewOp> = (0..n)
            .map(|rev| NewOp {
                rev,
                client: "cli-test".into(),
                seq: rev + 1,
                author_id: None,
                op_json: format!(
                    r#"[{{"retain":{rev}}},{{"insert":"{}"}}]"#,
                    (b'a' + rev as u8) as char
                ),
                len_after: rev + 2,
            })
            .collect();
        server
            .store()
            .await
            .append_ops(&id, &ops)
            .await
            .expect("append ops");
        id
    }

    async fn sql(server: &TestServer, statement: &str, doc: &str) {
        let pool = sqlx::SqlitePool::connect(server.config.database.as_str())
            .await
            .expect("open SQLite");
        let done = sqlx::query(sqlx::AssertSqlSafe(statement.to_string()))
            .bind(doc)
            .execute(&pool)
            .await
            .expect("corrupt the log");
        assert_eq!(done.rows_affected(), 1, "{statement}");
        pool.close().await;
    }

    #[tokio::test]
    async fn compact_writes_versions_and_doctor_finds_a_corrupted_tail() {
        let server = TestServer::start().await;
        let (token, _) = api_setup(&server.base).await;
        let healthy = document_with_ops(&server, &token, 6).await;
        let (ok, out) = quire(&server, &["doctor"]).await;
        assert!(ok, "a healthy database passes: {out}");
        let (ok, out) = quire(&server, &["compact", "--doc", &healthy]).await;
        assert!(ok && out.contains("wrote a version at revision 6"), "{out}");
        let versions = server.store().await.versions(&healthy).await.unwrap();
        assert_eq!((versions.len(), versions[0].rev), (1, 6));
        let (ok, out) = quire(&server, &["compact"]).await;
        assert!(
            ok && out.contains(&format!("{healthy}: up to date at revision 6")),
            "{out}"
        );
        assert_eq!(
            content(&server.base, &healthy, &token).await["ops"],
            serde_json::json!([{"insert": "abcdef\n"}])
        );

        let gap = document_with_ops(&server, &token, 5).await;
        sql(
            &server,
            "DELETE FROM operations WHERE doc_id = $1 AND rev = 2",
            &gap,
        )
        .await;
        let bad = document_with_ops(&server, &token, 5).await;
        sql(
            &server,
            "UPDATE operations SET op = '[{\"retain\":99}]' WHERE doc_id = $1 AND rev = 3",
            &bad,
        )
        .await;
        let (ok, out) = quire(&server, &["doctor"]).await;
        assert!(!ok, "doctor must fail: {out}");
        assert!(
            out.contains(&format!("{gap}: revision 2 is missing")),
            "{out}"
        );
        assert!(
            out.contains(&format!("{bad}: the op at revision 3 does not apply")),
            "{out}"
        );
        assert!(!out.contains(&format!("{healthy}:")), "{out}");
        server.stop().await;
    }
}
