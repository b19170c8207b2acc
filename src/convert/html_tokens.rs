//! A small, tolerant HTML tokenizer for the importer: start tags with attributes, end tags and text with
//! entities decoded. Comments, doctypes and the contents of `<script>` and `<style>` are dropped; anything
//! that is not a tag is text. It builds no tree, so malformed input cannot make it fail.

/// One piece of HTML. Tag and attribute names are lower case.
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
    pub fn attr(attrs: &[(String, String)], name: &str) -> Option<String> {
        attrs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    }
}

pub fn tokens(html: &str) -> Vec<Token> {
    let mut res = Vec::new();
    let mut rest = html;
    while !rest.is_empty() {
        let Some(at) = rest.find('<') else {
            res.push(Token::Text(decode_entities(rest)));
            break;
        };
        if at > 0 {
            res.push(Token::Text(decode_entities(&rest[..at])));
        }
        rest = tag(&rest[at..], &mut res);
    }
    res
}

/// Reads what starts at a `<` and returns the rest of the input.
fn tag<'a>(input: &'a str, res: &mut Vec<Token>) -> &'a str {
    let after = &input[1..];
    if let Some(comment) = after.strip_prefix("!--") {
        return comment.find("-->").map_or("", |end| &comment[end + 3..]);
    }
    if after.starts_with(['!', '?']) {
        return after.find('>').map_or("", |end| &after[end + 1..]);
    }
    if let Some(closing) = after.strip_prefix('/')
        && closing.starts_with(|c: char| c.is_ascii_alphabetic())
    {
        let name = tag_name(closing);
        res.push(Token::End(name));
        return closing.find('>').map_or("", |end| &closing[end + 1..]);
    }
    if !after.starts_with(|c: char| c.is_ascii_alphabetic()) {
        res.push(Token::Text("<".into()));
        return after;
    }
    let name = tag_name(after);
    let (attrs, rest) = attributes(&after[name.len()..]);
    if name == "script" || name == "style" {
        return skip_raw_text(rest, &name);
    }
    res.push(Token::Start { name, attrs });
    rest
}

fn tag_name(input: &str) -> String {
    input
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Skips to after `</name>` (case-insensitive), or to the end.
fn skip_raw_text<'a>(input: &'a str, name: &str) -> &'a str {
    let lower = input.to_ascii_lowercase();
    let Some(at) = lower.find(&format!("</{name}")) else {
        return "";
    };
    input[at..]
        .find('>')
        .map_or("", |end| &input[at + end + 1..])
}

/// The attributes of a start tag up to its `>`, and the input after it.
fn attributes(mut input: &str) -> (Vec<(String, String)>, &str) {
    let mut attrs = Vec::new();
    loop {
        input = input.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if input.is_empty() {
            return (attrs, input);
        }
        if let Some(rest) = input.strip_prefix('>') {
            return (attrs, rest);
        }
        let name_len = input
            .find(|c: char| c.is_whitespace() || "=>/".contains(c))
            .unwrap_or(input.len())
            .max(1);
        let name = input[..name_len].to_ascii_lowercase();
        input = input[name_len..].trim_start();
        let mut value = String::new();
        if let Some(rest) = input.strip_prefix('=') {
            let (raw, rest) = attribute_value(rest.trim_start());
            value = decode_entities(raw);
            input = rest;
        }
        attrs.push((name, value));
    }
}

fn attribute_value(input: &str) -> (&str, &str) {
    if let Some(quote) = input.chars().next().filter(|c| *c == '"' || *c == '\'') {
        let body = &input[1..];
        return match body.find(quote) {
            Some(end) => (&body[..end], &body[end + 1..]),
            None => (body, ""),
        };
    }
    let end = input
        .find(|c: char| c.is_whitespace() || c == '>')
        .unwrap_or(input.len());
    (&input[..end], &input[end..])
}

/// Decodes `&amp;`-style named references (the common ones) and numeric ones; others stay as written.
pub fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest[1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
            .map_or(rest.len(), |e| e + 1);
        match (rest[end..].starts_with(';'), entity(&rest[1..end])) {
            (true, Some(c)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        return Some(
            char::from_u32(code)
                .filter(|c| *c != '\0')
                .unwrap_or('\u{FFFD}'),
        );
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_attributes_and_entities() {
        let got = tokens(
            "<p class=x data-a='1'>a &lt;b&gt; &#x41;&amp;<!-- no --></P><script>x</script>&bogus;",
        );
        assert_eq!(
            got,
            vec![
                Token::Start {
                    name: "p".into(),
                    attrs: vec![("class".into(), "x".into()), ("data-a".into(), "1".into())],
                },
                Token::Text("a <b> A&".into()),
                Token::End("p".into()),
                Token::Text("&bogus;".into()),
            ]
        );
    }

    #[test]
    fn stray_angle_brackets_are_text() {
        assert_eq!(
            tokens("1 < 2"),
            vec![
                Token::Text("1 ".into()),
                Token::Text("<".into()),
                Token::Text(" 2".into())
            ]
        );
    }
}
