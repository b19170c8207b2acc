// Quill configuration: the formats of web/src/formats.json (shared with the
// server's validation, so the editor can never produce an op the server
// rejects, P9), a toolbar built from the same list (toolbar.js), Quill's
// table module with its row and column controls (table-tools.js), safe links,
// undo of my own edits only (P10); images go through uploads (images.js),
// never into the document as base64.

import Quill from 'quill';
import Link from 'quill/formats/link.js';
import Delta from 'quill-delta';
import QuillCursors from 'quill-cursors/core';
import FORMATS from '../formats.json';
import { normalizeLink } from './links.js';
import { toolbarGroups, labelToolbar, isMacPlatform } from './toolbar.js';
import { installLinkEditor, linkEditorBindings } from './link-editor.js';
import { markdownBindings } from './markdown-shortcuts.js';
import { insertTable, installTableTools } from './table-tools.js';
import { registerSuggestFormats } from './suggest-formats.js';

class SafeLink extends Link {
  static PROTOCOL_WHITELIST = ['http', 'https', 'mailto'];
  static sanitize(url) {
    return normalizeLink(url) ?? this.SANITIZED_URL;
  }
}

let registered = false;
function register() {
  if (registered) return;
  registered = true;
  Quill.register('formats/link', SafeLink, true);
  Quill.register('modules/cursors', QuillCursors, true);
  registerSuggestFormats();
  Quill.import('ui/icons')['code-block'] = CODE_BLOCK_ICON;
}

// Quill draws inline code and the code block with the same </> icon. The
// block gets the chevrons inside a frame, a box of code; inline code keeps
// Quill's. Classes as Quill's icons, so the snow theme colours it the same.
const CODE_BLOCK_ICON = '<svg viewBox="0 0 18 18">'
  + '<rect class="ql-stroke ql-thin" x="1.5" y="2.5" width="15" height="13" rx="2"/>'
  + '<polyline class="ql-even ql-stroke" points="7 6.5 4.5 9 7 11.5"/>'
  + '<polyline class="ql-even ql-stroke" points="11 6.5 13.5 9 11 11.5"/>'
  + '</svg>';

export const ALLOWED_FORMATS = [...FORMATS.inline, ...FORMATS.line, ...FORMATS.embeds];

export function createQuill(container, { toolbar } = {}) {
  register();
  const tables = ALLOWED_FORMATS.includes('table');
  const quill = new Quill(container, {
    theme: 'snow',
    // The suggestion marks are formats too, without a toolbar control (ui/suggestions.js).
    formats: [...ALLOWED_FORMATS, ...(FORMATS.suggestions ?? [])],
    placeholder: 'Start writing…',
    modules: {
      toolbar: {
        container: toolbar ?? toolbarGroups(ALLOWED_FORMATS),
        handlers: { table: () => insertTable(quill) },
      },
      // Its blots (table, row, body, container) come with the "table" format.
      table: tables,
      history: { userOnly: true, delay: 500, maxStack: 500 },
      keyboard: { bindings: { ...wholeCharacterBindings(), ...linkEditorBindings(), ...markdownBindings() } },
      cursors: { transformOnTextChange: false, selectionChangeSource: null, hideDelayMs: 2500 },
      // Quill's default turns dropped images into base64 embeds (P16); images.js
      // installs the upload in its place, and this one drops files until then.
      uploader: { handler: () => {} },
      clipboard: {
        matchers: [
          ['A', (node, delta) => fixPastedLinks(delta)],
        ],
      },
    },
  });
  // The same test as Quill's keyboard module, so the tooltips name the key it binds.
  const mac = isMacPlatform(navigator.platform);
  const toolbarContainer = quill.getModule('toolbar')?.container;
  labelToolbar(toolbarContainer, { mac });
  if (tables) installTableTools(quill, toolbarContainer, { mac });
  installLinkEditor(quill);
  return quill;
}

// Quill's own Backspace and Delete look for a character outside the BMP
// (an emoji: two UTF-16 units) only in the text leaf at the caret. Where a
// format ends (a bold word, then "😀") or where a format is pending (Ctrl+B
// with nothing selected puts an empty leaf at the caret), that leaf does
// not hold the emoji, and Quill deletes one unit: half of the surrogate
// pair, an op the server refuses (bad_op, and the pending edits are
// dropped). These bindings run first and, when the document has such a
// pair next to the caret that the leaf does not show, let Quill's handlers
// delete the whole of it; otherwise Quill's bindings (and the browser) go
// on as before.
const PAIR_AT_START = /^[\uD800-\uDBFF][\uDC00-\uDFFF]/;
const PAIR_AT_END = /[\uD800-\uDBFF][\uDC00-\uDFFF]$/;
function wholeCharacterBindings() {
  return {
    'quire delete whole character': {
      key: 'Delete',
      collapsed: true,
      handler(range, context) {
        const next = this.quill.getText(range.index, 2);
        if (!PAIR_AT_START.test(next) || PAIR_AT_START.test(context.suffix)) return true;
        this.handleDelete(range, { ...context, suffix: next });
        return false;
      },
    },
    'quire backspace whole character': {
      key: 'Backspace',
      collapsed: true,
      handler(range, context) {
        if (range.index < 2) return true;
        const prev = this.quill.getText(range.index - 2, 2);
        if (!PAIR_AT_END.test(prev) || PAIR_AT_END.test(context.prefix)) return true;
        this.handleBackspace(range, { ...context, prefix: prev });
        return false;
      },
    },
  };
}

// Pasted <a href="javascript:…"> keeps its text but loses the link.
function fixPastedLinks(delta) {
  return new Delta(delta.ops.map((op) => {
    if (!op.attributes || !('link' in op.attributes)) return op;
    const link = normalizeLink(op.attributes.link);
    const attributes = { ...op.attributes };
    if (link) attributes.link = link;
    else delete attributes.link;
    return Object.keys(attributes).length ? { ...op, attributes } : { insert: op.insert };
  }));
}
