//! HTML as a stream of start tags, end tags and text for the importer, from html5gum's WHATWG tokenizer:
//! every character reference decoded (`&mdash;`, `&eacute`, `&#13;`), line endings as `\n`, and raw text
//! (`<script>`, `<style>`, `<title>`, `<textarea>`) read as the spec says. It builds no tree: the importer's
//! reader does that tolerantly, in time linear in the input.
//!
//! html5ever's tree builder was the other candidate, but it is quadratic in nesting depth and caps nothing
//! (html5ever issue 788): a 1 MiB import of nested `<div>`s would take minutes of CPU.

use html5gum::{DefaultEmitter, HtmlString, Tokenizer};

/// One piece of HTML. Tag and attribute names are lower case (the tokenizer folds them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    Text(String),
    Start {
        name: String,
        attrs: Vec<(String, String)>,
    },
    End(String),
}

impl Token {
    /// An attribute of a start tag.
    pub fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
        attrs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Elements whose content a browser does not show: their start and end tags come through, their content
/// does not. Comments and doctypes are dropped too.
const HIDDEN: &[&str] = &[
    "script", "style", "template", "noscript", "iframe", "noembed", "noframes",
];

/// The tokens of `html`. Malformed input cannot make it fail: the tokenizer recovers as browsers do.
pub fn tokens(html: &str) -> impl Iterator<Item = Token> + '_ {
    let mut emitter = DefaultEmitter::default();
    // Without a tree builder to tell it, the tokenizer switches to raw text after `<script>`, `<style>`,
    // `<title>` and the like by the tag's name alone, which is what the tree builder would do in HTML content.
    emitter.naively_switch_states(true);
    let mut hidden = Hidden::default();
    Tokenizer::new_with_emitter(html, emitter)
        .filter_map(|token| token.ok().and_then(convert))
        .filter(move |token| hidden.shows(token))
}

fn convert(token: html5gum::Token) -> Option<Token> {
    Some(match token {
        html5gum::Token::StartTag(tag) => Token::Start {
            name: string(tag.name),
            attrs: tag
                .attributes
                .into_iter()
                .map(|(name, value)| (string(name), string(value.value)))
                .collect(),
        },
        html5gum::Token::EndTag(tag) => Token::End(string(tag.name)),
        html5gum::Token::String(text) => Token::Text(string(text.value)),
        _ => return None,
    })
}

/// The tokenizer reads a `&str`, so its strings are UTF-8; lossy only to avoid a panic path.
fn string(bytes: HtmlString) -> String {
    String::from_utf8(bytes.0)
        .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned())
}

/// The hidden element being skipped and how many of its kind are open inside it (`<template>` nests).
#[derive(Default)]
struct Hidden {
    open: Option<(String, usize)>,
}

impl Hidden {
    fn shows(&mut self, token: &Token) -> bool {
        let Some((name, depth)) = &mut self.open else {
            if let Token::Start { name, .. } = token
                && HIDDEN.contains(&name.as_str())
            {
                self.open = Some((name.clone(), 1));
            }
            return true;
        };
        match token {
            Token::Start { name: start, .. } if start == name => *depth += 1,
            Token::End(end) if end == name => {
                *depth -= 1;
                if *depth == 0 {
                    self.open = None;
                    return true;
                }
            }
            _ => {}
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(html: &str) -> Vec<Token> {
        tokens(html).collect()
    }

    fn start(name: &str) -> Token {
        Token::Start {
            name: name.into(),
            attrs: vec![],
        }
    }

    #[test]
    fn tags_attributes_and_character_references() {
        let got = all(
            "<P class=x DATA-A='1&amp;2'>a &lt;b&gt; &#x41;&amp;&mdash;&eacute &bogus;<!-- no --></P>",
        );
        let want = vec![
            Token::Start {
                name: "p".into(),
                attrs: vec![
                    ("class".into(), "x".into()),
                    ("data-a".into(), "1&2".into()),
                ],
            },
            Token::Text("a <b> A&\u{2014}\u{e9} &bogus;".into()),
            Token::End("p".into()),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn hidden_content_is_skipped_but_raw_text_is_not_markup() {
        let got = all(
            "<script>if (a<b) x('</p>')</script><template><template>t</template>u</template>\
             <title>a <b> &amp;</title>1 < 2",
        );
        let want = vec![
            start("script"),
            Token::End("script".into()),
            start("template"),
            Token::End("template".into()),
            start("title"),
            Token::Text("a <b> &".into()),
            Token::End("title".into()),
            Token::Text("1 < 2".into()),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn line_endings_are_newlines_but_references_are_kept() {
        let got = all("<pre>a\r\nb\rc&#13;</pre>");
        assert_eq!(got[1], Token::Text("a\nb\nc\r".into()));
    }
}
