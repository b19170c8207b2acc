// Tables (issue 16): the "Insert table" control and, while the caret is in a
// table, a group of toolbar buttons for its rows and columns. The editing
// itself is Quill's table module (quill/modules/table.js), so every change is
// an ordinary Delta that goes through OT like typing: each cell is a line
// whose "\n" carries { table: rowId }.

import Delta from 'quill-delta';
import { tableId } from 'quill/formats/table.js';
import { describeControl } from './toolbar.js';

export const NEW_TABLE = { rows: 3, columns: 3 };

// The table module's method behind each button, in the order they show.
const ACTIONS = [
  ['table-row-above', 'insertRowAbove'],
  ['table-row-below', 'insertRowBelow'],
  ['table-column-left', 'insertColumnLeft'],
  ['table-column-right', 'insertColumnRight'],
  ['table-delete-row', 'deleteRow'],
  ['table-delete-column', 'deleteColumn'],
  ['table-delete', 'deleteTable'],
];

// Where a new table goes and what goes with it. Quill's own insertTable puts
// it at the caret, so the text before the caret would become the first cell;
// here an empty line is replaced by the table (and stays after it, to type
// on), and a line with text keeps it and gets the table below. A table at
// the very end gets an empty line after it, or nothing could be typed there.
export function tableInsertion({ lineStart, lineLength, docLength }, { rows, columns }, newId = tableId) {
  const empty = lineLength === 1;
  const at = empty ? lineStart : lineStart + lineLength;
  const delta = new Delta().retain(at);
  for (let row = 0; row < rows; row += 1) delta.insert('\n'.repeat(columns), { table: newId() });
  if (at >= docLength) delta.insert('\n');
  return { delta, caret: at };
}

// Inserts a table at the caret's line; not inside a table (Quill's tables do not nest).
export function insertTable(quill, size = NEW_TABLE) {
  const range = quill.getSelection(true);
  if (!range || inTable(quill, range)) return;
  const [line, offset] = quill.getLine(range.index);
  if (!line) return;
  const place = { lineStart: range.index - offset, lineLength: line.length(), docLength: quill.getLength() };
  const { delta, caret } = tableInsertion(place, size);
  quill.updateContents(delta, 'user');
  quill.setSelection(caret, 0, 'user');
}

function inTable(quill, range) {
  const [, , cell] = quill.getModule('table').getTable(range);
  return cell != null;
}

// Small grid icons in Quill's icon style (ql-stroke, ql-fill), so the snow
// theme and the dark theme colour them like the others: a 3×3 grid with the
// affected row or column filled, and a plus (add) or a cross (delete).
const GRID = '<rect class="ql-stroke" x="2.5" y="3.5" width="13" height="11" rx="1"/>'
  + '<line class="ql-stroke ql-thin" x1="2.5" y1="7.5" x2="15.5" y2="7.5"/>'
  + '<line class="ql-stroke ql-thin" x1="2.5" y1="11" x2="15.5" y2="11"/>'
  + '<line class="ql-stroke ql-thin" x1="7" y1="3.5" x2="7" y2="14.5"/>'
  + '<line class="ql-stroke ql-thin" x1="11" y1="3.5" x2="11" y2="14.5"/>';
const FILL = {
  top: '<rect class="ql-fill ql-transparent" x="3" y="4" width="12" height="3.5"/>',
  bottom: '<rect class="ql-fill ql-transparent" x="3" y="11" width="12" height="3"/>',
  left: '<rect class="ql-fill ql-transparent" x="3" y="4" width="4" height="10"/>',
  right: '<rect class="ql-fill ql-transparent" x="11" y="4" width="4" height="10"/>',
  middle: '<rect class="ql-fill ql-transparent" x="3" y="7.5" width="12" height="3.5"/>',
  column: '<rect class="ql-fill ql-transparent" x="7" y="4" width="4" height="10"/>',
  all: '<rect class="ql-fill ql-transparent" x="3" y="4" width="12" height="10"/>',
};
const PLUS = '<line class="ql-stroke" x1="14" y1="0.5" x2="14" y2="5.5"/><line class="ql-stroke" x1="11.5" y1="3" x2="16.5" y2="3"/>';
const CROSS = '<line class="ql-stroke" x1="12" y1="0.8" x2="16.5" y2="5.3"/><line class="ql-stroke" x1="16.5" y1="0.8" x2="12" y2="5.3"/>';
const icon = (fill, sign) => `<svg viewBox="0 0 18 18" aria-hidden="true">${GRID}${FILL[fill]}${sign}</svg>`;
const ICONS = {
  'table-row-above': icon('top', PLUS),
  'table-row-below': icon('bottom', PLUS),
  'table-column-left': icon('left', PLUS),
  'table-column-right': icon('right', PLUS),
  'table-delete-row': icon('middle', CROSS),
  'table-delete-column': icon('column', CROSS),
  'table-delete': icon('all', CROSS),
};

// Adds the table group to the toolbar `container`; it shows while the caret
// is in a table. When the editor loses focus (to these very buttons, by Tab
// or a click) the group stays as it was, and a button acts on the cell the
// caret was last in: quill.focus() puts the selection back first.
export function installTableTools(quill, container, { mac = false } = {}) {
  if (!container) return null;
  const table = quill.getModule('table');
  const group = document.createElement('span');
  group.className = 'ql-formats qe-table-tools';
  group.setAttribute('role', 'group');
  group.setAttribute('aria-label', 'Table');
  group.hidden = true;
  for (const [control, method] of ACTIONS) {
    const { name, title } = describeControl(control, null, { mac });
    const button = document.createElement('button');
    button.type = 'button';
    button.className = `qe-${control}`;
    button.setAttribute('aria-label', name);
    button.title = title;
    button.innerHTML = ICONS[control];
    // A mouse press would take the focus (and the caret) out of the text.
    button.addEventListener('mousedown', (event) => event.preventDefault());
    button.addEventListener('click', () => {
      if (!quill.isEnabled()) return;
      quill.focus();
      table[method]();
      showIfInTable();
    });
    group.appendChild(button);
  }
  container.appendChild(group);

  function showIfInTable(range = quill.getSelection()) {
    if (!range) return;
    group.hidden = !inTable(quill, range);
  }
  quill.on('editor-change', (type, range) => {
    if (type === 'selection-change') showIfInTable(range);
    else showIfInTable();
  });
  return group;
}
