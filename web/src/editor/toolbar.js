// The toolbar: which controls it has, and what each is called, aloud and in
// its tooltip (issue 19 item 5). Quill names its buttons after its formats ("list: bullet",
// "clean"), which a screen reader reads out as is, and gives them no
// tooltip; the heading picker ("Text style" here) gets no name at all.
//
// The shortcuts are the ones Quill binds: Ctrl+B/I/U in its keyboard module,
// Ctrl+K in the snow theme, Tab and Shift+Tab in a list. Quill uses ⌘ where
// navigator.platform says Mac, so the tooltips follow the same test.

// Toolbar groups, in Quill's toolbar notation.
const GROUPS = [
  [{ header: [1, 2, 3, false] }],
  ['bold', 'italic', 'underline', 'strike', 'code'],
  ['link', 'image'],
  [{ list: 'bullet' }, { list: 'ordered' }, { list: 'check' }],
  [{ indent: '-1' }, { indent: '+1' }],
  ['blockquote', 'code-block'],
  ['table'],
];

// Every control is dropped unless its format is in `allowed`; "clear
// formatting" is always there.
export function toolbarGroups(allowed) {
  const name = (c) => (typeof c === 'string' ? c : Object.keys(c)[0]);
  const groups = GROUPS.map((g) => g.filter((c) => allowed.includes(name(c)))).filter((g) => g.length);
  groups.push(['clean']);
  return groups;
}

// `mod` is Ctrl, or ⌘ on a Mac; `keys` is a key sequence written out as is.
const CONTROLS = {
  header: { name: 'Text style' },
  bold: { name: 'Bold', mod: 'B' },
  italic: { name: 'Italic', mod: 'I' },
  underline: { name: 'Underline', mod: 'U' },
  strike: { name: 'Strikethrough' },
  code: { name: 'Inline code' },
  link: { name: 'Link', mod: 'K' },
  image: { name: 'Insert image' },
  'list:bullet': { name: 'Bulleted list' },
  'list:ordered': { name: 'Numbered list' },
  'list:check': { name: 'Checklist' },
  'indent:-1': { name: 'Decrease indent', keys: 'Shift+Tab in a list' },
  'indent:+1': { name: 'Increase indent', keys: 'Tab in a list' },
  blockquote: { name: 'Quote' },
  'code-block': { name: 'Code block' },
  // A 3×3 table (table-tools.js); the button looks pressed while the caret is in one.
  table: { name: 'Insert table' },
  // The table group that shows while the caret is in a table (table-tools.js).
  'table-row-above': { name: 'Insert row above' },
  'table-row-below': { name: 'Insert row below' },
  'table-column-left': { name: 'Insert column left' },
  'table-column-right': { name: 'Insert column right' },
  'table-delete-row': { name: 'Delete row' },
  'table-delete-column': { name: 'Delete column' },
  'table-delete': { name: 'Delete table' },
  clean: { name: 'Clear formatting' },
};

// The heading picker's choices; Quill's option without a value is "normal".
const HEADING_CHOICES = { 1: 'Heading 1', 2: 'Heading 2', 3: 'Heading 3', '': 'Normal text' };

export const isMacPlatform = (platform) => /Mac/i.test(platform ?? '');

function shortcutText(control, mac) {
  if (control.mod) return mac ? `⌘${control.mod}` : `Ctrl+${control.mod}`;
  return control.keys ?? '';
}

// { name, title } for the control of `format` (with `value` for those that
// take one, as in Quill's toolbar: list "bullet", indent "+1"), or null for
// a control this table does not know.
export function describeControl(format, value, { mac = false } = {}) {
  const control = CONTROLS[value ? `${format}:${value}` : format] ?? CONTROLS[format];
  if (!control) return null;
  const shortcut = shortcutText(control, mac);
  return { name: control.name, title: shortcut ? `${control.name} (${shortcut})` : control.name };
}

// [{ name, keys }] of every control that has a keyboard shortcut, in
// toolbar order: the shortcuts help lists them from this same table.
export function controlShortcuts({ mac = false } = {}) {
  return Object.values(CONTROLS)
    .filter((c) => c.mod || c.keys)
    .map((c) => ({ name: c.name, keys: shortcutText(c, mac) }));
}

export const headingChoiceName = (value) => HEADING_CHOICES[value ?? ''] ?? `Heading ${value}`;

// Names and tooltips on the toolbar Quill built in `container` (a
// `.ql-toolbar`): its buttons, and the heading picker with its choices.
export function labelToolbar(container, { mac = false } = {}) {
  if (!container) return;
  for (const button of container.querySelectorAll('button')) {
    const format = [...button.classList].find((c) => c.startsWith('ql-'))?.slice(3);
    const text = format && describeControl(format, button.value, { mac });
    if (!text) continue;
    button.setAttribute('aria-label', text.name);
    button.title = text.title;
  }
  for (const picker of container.querySelectorAll('.ql-picker.ql-header')) labelHeadingPicker(picker, mac);
}

// Quill's picker is spans: a label with role="button" that opens a list of
// spans with role="button", and what it shows ("Normal", "Heading 1") is
// CSS content that Quill changes through data-value. The label's name says
// what it is and what it shows (a name without the words on screen fails
// WCAG 2.5.3, label in name); each choice gets its name and says whether it
// is the current one (Quill only moves a class).
function labelHeadingPicker(picker, mac) {
  const { name, title } = describeControl('header', null, { mac });
  const label = picker.querySelector('.ql-picker-label');
  const options = picker.querySelector('.ql-picker-options');
  if (!label || !options) return;
  label.title = title;
  options.setAttribute('role', 'group');
  options.setAttribute('aria-label', name);
  const items = [...options.querySelectorAll('.ql-picker-item')];
  for (const item of items) item.setAttribute('aria-label', headingChoiceName(item.getAttribute('data-value')));
  const showCurrent = () => {
    label.setAttribute('aria-label', `${name}: ${headingChoiceName(label.getAttribute('data-value'))}`);
    for (const item of items) item.setAttribute('aria-pressed', String(item.classList.contains('ql-selected')));
  };
  showCurrent();
  new MutationObserver(showCurrent).observe(picker, { subtree: true, attributeFilter: ['class', 'data-value'] });
}
