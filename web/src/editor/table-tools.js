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
const GRID = '<rect class="ql-stroke" x="1.5" y="5.5" width="11" height="11" rx="1"/>'
  + '<line class="ql-stroke ql-thin" x1="1.5" y1="9.5" x2="12.5" y2="9.5"/>'
  + '<line class="ql-stroke ql-thin" x1="1.5" y1="13" x2="12.5" y2="13"/>'
  + '<line class="ql-stroke ql-thin" x1="5.5" y1="5.5" x2="5.5" y2="16.5"/>'
  + '<line class="ql-stroke ql-thin" x1="9" y1="5.5" x2="9" y2="16.5"/>';
const shade = (x, y, width, height) => `<rect class="ql-fill" x="${x}" y="${y}" width="${width}" height="${height}"/>`;
const FILL = {
  top: shade(2, 6, 10, 3.5),
  bottom: shade(2, 13, 10, 3),
  middle: shade(2, 9.5, 10, 3.5),
  left: shade(2, 6, 3.5, 10),
  right: shade(9, 6, 3, 10),
  column: shade(5.5, 6, 3.5, 10),
  all: shade(2, 6, 10, 10),
};
// Above the grid's right corner, clear of it.
const PLUS = '<line class="ql-stroke" x1="14.5" y1="0.5" x2="14.5" y2="6.5"/><line class="ql-stroke" x1="11.5" y1="3.5" x2="17.5" y2="3.5"/>';
const CROSS = '<line class="ql-stroke" x1="12.5" y1="1.5" x2="16.5" y2="5.5"/><line class="ql-stroke" x1="16.5" y1="1.5" x2="12.5" y2="5.5"/>';
const icon = (fill, sign) => `<svg viewBox="0 0 18 18" aria-hidden="true">${FILL[fill]}${GRID}${sign}</svg>`;
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
  // Right after "Insert table", where the eye already is.
  const after = container.querySelector('.ql-table')?.closest('.ql-formats');
  if (after) after.after(group);
  else container.appendChild(group);

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
