// Who wrote each character of the document shown, as runs [length, author
// id or null] in UTF-16 units (Quill's indexes): the same rule as the
// server's src/hub/authorship.rs, kept current from every change the editor
// applies. Retains keep, inserts belong to the change's author, deletes
// remove. Pure; test/unit/authors.test.js checks it against the shared
// cases in test/unit/authorship-cases.json that the Rust tests also read.

const opLength = (op) => {
  if (typeof op.insert === 'string') return op.insert.length;
  if (op.insert !== undefined) return 1; // an embed
  if (typeof op.retain === 'number') return op.retain;
  if (op.retain !== undefined) return 1; // Quill 2's embed retain
  return op.delete ?? 0;
};

export class SpanMap {
  // spans: [[length, author or null], ...] as the server sends them.
  constructor(spans = []) {
    this.runs = [];
    for (const [len, author] of spans) this._push(len, author ?? null);
  }

  get length() {
    return this.runs.reduce((sum, run) => sum + run.len, 0);
  }

  spans() {
    return this.runs.map((run) => [run.len, run.author]);
  }

  // ops: a Delta's ops; author: a user id, or null for unknown.
  apply(ops, author) {
    author = author ?? null;
    let at = { run: 0, offset: 0 };
    for (const op of ops) {
      const n = opLength(op);
      if (op.insert !== undefined) at = this._insert(at, n, author);
      else if (op.delete !== undefined) at = this._delete(at, n);
      else at = this._advance(at, n);
    }
  }

  _push(len, author) {
    if (len <= 0) return;
    const last = this.runs[this.runs.length - 1];
    if (last && last.author === author) last.len += len;
    else this.runs.push({ len, author });
  }

  _advance(at, n) {
    let { run, offset } = at;
    while (n > 0 && run < this.runs.length) {
      const room = this.runs[run].len - offset;
      if (n < room) return { run, offset: offset + n };
      n -= room;
      run += 1;
      offset = 0;
    }
    return { run, offset };
  }

  _insert(at, len, author) {
    if (len === 0) return at;
    const runs = this.runs;
    if (at.offset > 0) {
      const run = runs[at.run];
      if (run.author === author) {
        run.len += len;
        return { run: at.run, offset: at.offset + len };
      }
      const rest = { len: run.len - at.offset, author: run.author };
      run.len = at.offset;
      runs.splice(at.run + 1, 0, { len, author }, rest);
      return { run: at.run + 2, offset: 0 };
    }
    if (at.run > 0 && runs[at.run - 1].author === author) {
      runs[at.run - 1].len += len;
      return at;
    }
    if (at.run < runs.length && runs[at.run].author === author) {
      runs[at.run].len += len;
      return { run: at.run, offset: len };
    }
    runs.splice(at.run, 0, { len, author });
    return { run: at.run + 1, offset: 0 };
  }

  _delete(at, n) {
    const runs = this.runs;
    if (at.offset > 0 && n > 0) {
      const run = runs[at.run];
      const take = Math.min(n, run.len - at.offset);
      run.len -= take;
      n -= take;
      if (at.offset < run.len) return at;
      at = { run: at.run + 1, offset: 0 };
    }
    let end = at.run;
    while (end < runs.length && n >= runs[end].len) {
      n -= runs[end].len;
      end += 1;
    }
    runs.splice(at.run, end - at.run);
    if (n > 0 && at.run < runs.length) runs[at.run].len -= n;
    // The text on both sides of the deleted part may now be one author's run.
    if (at.run > 0 && at.run < runs.length && runs[at.run - 1].author === runs[at.run].author) {
      const [merged] = runs.splice(at.run, 1);
      const left = runs[at.run - 1];
      at = { run: at.run - 1, offset: left.len };
      left.len += merged.len;
    }
    return at;
  }
}
