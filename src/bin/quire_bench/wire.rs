//! Protocol v1 frames for the load generator: a cheap scanner for the top-level fields of a server frame (no
//! `serde_json::Value` per frame), a typed parser for the ops the hub sends, and the client frames it writes.

use quire::ot::Delta;
use serde::Deserialize;
use serde_json::{Map, Value};

/// The top-level fields of a frame the generator reads; every value is the raw JSON text of that field
/// (strings without their quotes).
#[derive(Debug, Default)]
pub struct Fields<'a> {
    pub t: &'a str,
    pub rev: Option<u64>,
    pub seq: Option<u64>,
    pub head: Option<u64>,
    pub client: Option<&'a str>,
    pub op: Option<&'a str>,
    pub snapshot: Option<&'a str>,
    pub code: Option<&'a str>,
    /// Where a cluster node sends a socket for a document it does not own (`redirect`).
    pub url: Option<&'a str>,
}

/// Scans one JSON object frame, skipping nested values without building them. An op broadcast stops being read
/// once what the generator needs of it is known: the rest is the author's `user`, a third of the frame.
pub fn scan(frame: &str) -> Option<Fields<'_>> {
    let mut fields = Fields::default();
    each_field(frame, |key, raw| {
        let unquoted = || raw.strip_prefix('"').and_then(|s| s.strip_suffix('"'));
        match key {
            "t" => fields.t = unquoted()?,
            "rev" => fields.rev = raw.parse().ok(),
            "seq" => fields.seq = raw.parse().ok(),
            "head" => fields.head = raw.parse().ok(),
            "client" => fields.client = unquoted(),
            "op" => fields.op = Some(raw),
            "snapshot" => fields.snapshot = Some(raw),
            "code" => fields.code = unquoted(),
            "url" => fields.url = unquoted(),
            _ => {}
        }
        let op_known = fields.t == "op"
            && fields.rev.is_some()
            && fields.seq.is_some()
            && fields.client.is_some()
            && fields.op.is_some();
        Some(if op_known { Read::Done } else { Read::More })
    })?;
    Some(fields)
}

/// Whether `each_field` goes on to the next field.
enum Read {
    More,
    Done,
}

/// Calls `field` with each key of a JSON object and the raw text of its value, until it answers `Done` or the
/// object ends; `None` when the text is not an object or `field` refuses a value.
fn each_field<'a>(
    object: &'a str,
    mut field: impl FnMut(&'a str, &'a str) -> Option<Read>,
) -> Option<()> {
    let bytes = object.as_bytes();
    let mut i = skip_ws(bytes, 0);
    if bytes.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_ws(bytes, i);
        match bytes.get(i)? {
            b'}' => return Some(()),
            b',' => {
                i += 1;
                continue;
            }
            b'"' => {}
            _ => return None,
        }
        let key_end = skip_string(bytes, i)?;
        let key = &object[i + 1..key_end - 1];
        i = skip_ws(bytes, key_end);
        if bytes.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(bytes, i + 1);
        let end = skip_value(bytes, i)?;
        if let Read::Done = field(key, &object[i..end])? {
            return Some(());
        }
        i = end;
    }
}

fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// `i` is at an opening quote; returns the index just past the closing one.
fn skip_string(bytes: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    loop {
        i += memchr::memchr2(b'"', b'\\', bytes.get(i..)?)?;
        match bytes[i] {
            b'\\' => i += 2,
            _ => return Some(i + 1),
        }
    }
}

/// Returns the index just past the value that starts at `i`. In an array only its own brackets count (and in an
/// object its braces): whatever else it holds is balanced, outside of strings.
fn skip_value(bytes: &[u8], mut i: usize) -> Option<usize> {
    match *bytes.get(i)? {
        b'"' => skip_string(bytes, i),
        open @ (b'{' | b'[') => {
            let close = if open == b'{' { b'}' } else { b']' };
            let mut depth = 0usize;
            loop {
                i += memchr::memchr3(b'"', open, close, bytes.get(i..)?)?;
                match bytes[i] {
                    b'"' => {
                        i = skip_string(bytes, i)?;
                        continue;
                    }
                    c if c == open => depth += 1,
                    _ => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                }
                i += 1;
            }
        }
        _ => {
            while let Some(c) = bytes.get(i) {
                if matches!(c, b',' | b'}' | b']') || c.is_ascii_whitespace() {
                    break;
                }
                i += 1;
            }
            Some(i)
        }
    }
}

#[derive(Deserialize)]
struct RawOp {
    insert: Option<String>,
    retain: Option<u64>,
    delete: Option<u64>,
    attributes: Option<Map<String, Value>>,
}

/// Parses a change as the hub sends it: the scanner first; then serde's typed path for text with escapes; anything
/// else (embeds) falls back to the lenient `Delta` reader.
pub fn parse_delta(raw: &str) -> Option<Delta> {
    scan_delta(raw).or_else(|| parse_delta_with_serde(raw))
}

/// The changes the generator's own clients make (text inserts without escapes, retains, deletes, flat attributes),
/// read with the frame scanner: at n500 the generator reads 500,000 of them a second, and serde was a tenth of its
/// time in a profile. `None` for anything else, which `parse_delta_with_serde` then reads.
fn scan_delta(raw: &str) -> Option<Delta> {
    let bytes = raw.as_bytes();
    let mut i = skip_ws(bytes, 0);
    if bytes.get(i) != Some(&b'[') {
        return None;
    }
    i += 1;
    let mut delta = Delta::new();
    loop {
        i = skip_ws(bytes, i);
        match bytes.get(i)? {
            b']' => return Some(delta),
            b',' => {
                i += 1;
                continue;
            }
            b'{' => {}
            _ => return None,
        }
        let end = skip_value(bytes, i)?;
        delta = push_scanned(delta, &raw[i..end])?;
        i = end;
    }
}

/// Appends one `{insert|retain|delete, attributes?}` component; `None` for anything the scanner does not read.
fn push_scanned(delta: Delta, component: &str) -> Option<Delta> {
    let (mut insert, mut retain, mut delete, mut attributes) = (None, None, None, None);
    each_field(component, |key, raw| {
        match key {
            "insert" => {
                let text = raw.strip_prefix('"')?.strip_suffix('"')?;
                // Escaped text is serde's to read.
                insert = Some((!text.contains('\\')).then_some(text)?);
            }
            "retain" => retain = Some(raw.parse::<u64>().ok()?),
            "delete" => delete = Some(raw.parse::<u64>().ok()?),
            "attributes" => {
                attributes = Some(serde_json::from_str::<Map<String, Value>>(raw).ok()?)
            }
            _ => return None,
        }
        Some(Read::More)
    })?;
    Some(match (insert, retain, delete) {
        (Some(text), None, None) => delta.insert(text, attributes),
        (None, Some(n), None) => delta.retain(n, attributes),
        (None, None, Some(n)) => delta.delete(n),
        _ => return None,
    })
}

fn parse_delta_with_serde(raw: &str) -> Option<Delta> {
    if let Ok(ops) = serde_json::from_str::<Vec<RawOp>>(raw) {
        let mut delta = Delta::new();
        for op in ops {
            delta = match (op.insert, op.retain, op.delete) {
                (Some(text), None, None) => delta.insert(text, op.attributes),
                (None, Some(n), None) => delta.retain(n, op.attributes),
                (None, None, Some(n)) => delta.delete(n),
                _ => return None,
            };
        }
        return Some(delta);
    }
    let value: Value = serde_json::from_str(raw).ok()?;
    Delta::from_json_unchecked(&value).ok()
}

/// What a simulated client keeps of its document: its length in UTF-16 units, which is all that choosing a
/// position to type at needs. Keeping the text too (a `quire::ot::Document` each) was most of the generator's
/// time at 400 clients; whether the texts converge is proven by tests/it/hub_convergence.rs, not measured here.
#[derive(Debug, Default, Clone, Copy)]
pub struct View {
    pub len: u64,
}

impl View {
    /// Applies a change to the length; false (and no change) when the change does not fit the view.
    pub fn apply(&mut self, change: &Delta) -> bool {
        let Some(len) = (change.base_length() <= self.len)
            .then(|| self.len.checked_add_signed(change.change_length()))
            .flatten()
        else {
            return false;
        };
        self.len = len;
        true
    }
}

/// The view of a `welcome` snapshot `{rev, ops}`.
pub fn parse_snapshot(raw: &str) -> Option<View> {
    let value: Value = serde_json::from_str(raw).ok()?;
    let delta = Delta::from_json_unchecked(value.get("ops")?).ok()?;
    delta.is_insert_only().then(|| View {
        len: delta.length(),
    })
}

pub fn hello(client: &str) -> String {
    format!(r#"{{"t":"hello","proto":1,"client":"{client}","rev":null}}"#)
}

pub fn op(rev: u64, seq: u64, delta: &Delta) -> String {
    let ops = serde_json::to_string(delta).unwrap_or_else(|_| "[]".into());
    format!(r#"{{"t":"op","rev":{rev},"seq":{seq},"op":{ops}}}"#)
}

/// The index of a generator client encoded in its id (`qb` + 8 digits + `-` + random).
pub fn client_index(client: &str) -> Option<usize> {
    client.strip_prefix("qb")?.get(..8)?.parse().ok()
}

pub fn client_id(index: usize, salt: u64) -> String {
    format!("qb{index:08}-{salt:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_an_op_broadcast() {
        let frame = r##"{"t":"op","rev":12,"op":[{"retain":3},{"insert":"ab","attributes":{"bold":true}}],"client":"qb00000007-00ff","seq":4,"user":{"id":"u","name":"a \"q\" }","color":"#fff"}}"##;
        let f = scan(frame).expect("frame");
        assert_eq!(f.t, "op");
        assert_eq!((f.rev, f.seq), (Some(12), Some(4)));
        assert_eq!(client_index(f.client.unwrap()), Some(7));
        let delta = parse_delta(f.op.unwrap()).unwrap();
        assert_eq!(delta.length(), 5);
    }

    #[test]
    fn the_scanner_reads_every_change_as_serde_does() {
        let changes = [
            r#"[{"retain":3},{"insert":"ab","attributes":{"bold":true}}]"#,
            r#"[{"insert":"x"}]"#,
            r#"[ {"retain":2,"attributes":{"bold":null}} , {"delete":4} ]"#,
            r#"[{"insert":"a \"q\" ]}"}]"#,
            r#"[{"insert":"😀\n"},{"insert":{"image":"/i/1"}}]"#,
            r#"[{"retain":1},{"insert":"b","attributes":{"link":"https://x/]"}}]"#,
            r#"[]"#,
        ];
        for raw in changes {
            assert_eq!(parse_delta(raw), parse_delta_with_serde(raw), "{raw}");
            assert!(parse_delta(raw).is_some(), "{raw}");
        }
        assert!(
            scan_delta(r#"[{"insert":"a\"b"}]"#).is_none(),
            "escapes are serde's"
        );
        assert!(parse_delta(r#"[{"retain":-1}]"#).is_none());
        assert!(parse_delta(r#"[{"retain":1"#).is_none());
    }

    #[test]
    fn an_op_broadcast_is_read_up_to_what_is_needed() {
        let f = scan(
            r#"{"t":"op","rev":1,"op":[],"client":"qb00000001-1","seq":2,"user":{"name":"}"}}"#,
        )
        .unwrap();
        assert_eq!((f.rev, f.seq, f.op), (Some(1), Some(2), Some("[]")));
        let ack = scan(r#"{"t":"ack","seq":2,"rev":7,"code":"x"}"#).unwrap();
        assert_eq!((ack.t, ack.rev, ack.code), ("ack", Some(7), Some("x")));
    }

    #[test]
    fn scans_a_redirect() {
        let f =
            scan(r#"{"t":"redirect","url":"ws://127.0.0.1:9/api/docs/d/ws?ticket=a.b"}"#).unwrap();
        assert_eq!(
            (f.t, f.url),
            (
                "redirect",
                Some("ws://127.0.0.1:9/api/docs/d/ws?ticket=a.b")
            )
        );
    }

    #[test]
    fn a_view_follows_the_length_and_refuses_what_does_not_fit() {
        let mut view = parse_snapshot(r#"{"rev":3,"ops":[{"insert":"ab😀\n"}]}"#).unwrap();
        assert_eq!(view.len, 5, "UTF-16 units, the emoji counts 2");
        assert!(view.apply(&Delta::new().retain(2, None).delete(2).insert("xyz", None)));
        assert_eq!(view.len, 6);
        assert!(!view.apply(&Delta::new().retain(6, None).delete(1)));
        assert_eq!(view.len, 6, "a change past the end changes nothing");
    }
}
