#!/usr/bin/env node
// End to end against the REAL binary (QUIRE_URL), issue 19 items 7 and 10,
// in Chromium:
//   the link editor: Ctrl+K on a word at the very left of a line, at 390 px,
//     opens a popover inside the window with "Text" (the word) and an empty
//     "Link"; a javascript: URL is refused; the applied link is in the Delta;
//     clicking the link shows Edit / Remove inside the window; at 1280 px a
//     word at the far right edge also gets a popover inside the window;
//   Markdown: "# ", "> " and "```" + Enter make a heading, a quote and a code
//     block without their markers; one Ctrl+Z after "## " gives back "## ";
//     a second page on the document receives the heading (it went through OT);
//   toasts: "Title saved" is a toast, the save status never shows it and the
//     avatars do not move; Enter in the title goes back to the text;
//   dark theme: with the system set to dark, the editor page and the
//     dashboard are dark with light text at AA contrast, and toolbar icons
//     stay visible.
//
//   QUIRE_URL=http://127.0.0.1:PORT node test/browser/editor-feel.mjs
// Screenshots: target/e2e/feel-*.png (QUIRE_E2E_DIR). Prints "N passed, M
// failed"; exit 1 on failure.

import { shot, until, contents, statusText } from './lib.mjs';
import { realRun, assert, loaded, synced } from './real-run.mjs';

const run = await realRun('editor-feel');
const { base, step, errors, signUp, logIn } = run;
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 860 };

// The popover's box, whether it is shown, and whether all of it is in the window.
const popover = (page) => page.evaluate(() => {
  const el = document.querySelector('.qe-link-pop');
  if (!el || el.hidden) return null;
  const r = el.getBoundingClientRect();
  const inside = r.left >= 0 && r.top >= 0 && r.right <= document.documentElement.clientWidth && r.bottom <= window.innerHeight;
  return { mode: el.dataset.mode, left: r.left, right: r.right, top: r.top, bottom: r.bottom, inside, width: window.innerWidth };
});

// The document as lines: [{ text, format }] where format is the line's attributes.
const lines = async (page) => {
  const out = [];
  let textSoFar = '';
  for (const op of await contents(page)) {
    const parts = String(op.insert).split('\n');
    for (let i = 0; i < parts.length - 1; i++) {
      out.push({ text: textSoFar + parts[i], format: op.attributes ?? {} });
      textSoFar = '';
    }
    textSoFar += parts[parts.length - 1];
  }
  return out;
};

// Relative luminance and contrast (WCAG 2.x) of CSS rgb() colours.
function luminance(css) {
  const [r, g, b] = css.match(/[\d.]+/g).slice(0, 3).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
const contrast = (a, b) => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
};
// The first non-transparent background from `sel` up.
const colours = (page, sel) => page.evaluate((s) => {
  const el = document.querySelector(s);
  let bg = 'rgba(0, 0, 0, 0)';
  for (let n = el; n && /rgba\(.*, 0\)$|transparent/.test(bg); n = n.parentElement) bg = getComputedStyle(n).backgroundColor;
  return { bg, fg: getComputedStyle(el).color };
}, sel);

const A = await signUp('Fay Feel', PHONE);
const doc = await (await A.ctx.request.post(`${base}/api/docs`, { data: { title: 'Feel' }, headers: { 'X-CSRF-Token': A.csrf } })).json();
const docUrl = `${base}/d/${doc.id}`;

await step('Ctrl+K on a word at the left edge (390 px): Text is the word, Link is empty, all of it in the window', async () => {
  await A.page.goto(docUrl);
  await loaded(A.page);
  await A.page.click('.ql-editor');
  await A.page.keyboard.type('Hello world');
  for (let i = 0; i < 5; i++) await A.page.keyboard.press('Enter');
  await synced(A.page);
  await A.page.evaluate(() => window.__quire.quill.setSelection(0, 5, 'user'));
  await A.page.keyboard.press('Control+k');
  const box = await until(() => popover(A.page), { what: 'link editor' });
  assert(box.mode === 'edit', `mode ${box.mode}`);
  assert(box.inside, `link editor outside the window: ${JSON.stringify(box)}`);
  const fields = await A.page.evaluate(() => ({
    text: document.querySelector('.qe-link-text').value,
    url: document.querySelector('.qe-link-input').value,
    focused: document.activeElement?.className,
    font: getComputedStyle(document.querySelector('.qe-link-input')).fontFamily,
    appFont: getComputedStyle(document.body).fontFamily,
  }));
  assert(fields.text === 'Hello', `Text field: ${fields.text}`);
  assert(fields.url === '', `Link field not empty: ${fields.url}`);
  assert(fields.focused === 'qe-link-input', `focus on ${fields.focused}`);
  assert(fields.font === fields.appFont, `popover font ${fields.font}, page font ${fields.appFont}`);
  await shot(A.page, 'feel-link-editor-390');
});

await step('a javascript: URL is refused; an applied link replaces the text in the Delta', async () => {
  await A.page.fill('.qe-link-text', 'Hi there');
  await A.page.fill('.qe-link-input', 'javascript:alert(1)');
  await A.page.keyboard.press('Enter');
  const error = await A.page.locator('.qe-link-error').textContent();
  assert(/only http, https and mailto/i.test(error), `no refusal: "${error}"`);
  assert((await popover(A.page))?.mode === 'edit', 'the editor closed on a refused URL');
  assert(!JSON.stringify(await contents(A.page)).includes('javascript'), 'a javascript: link got in');
  await A.page.fill('.qe-link-input', 'example.com/docs');
  await A.page.keyboard.press('Enter');
  await until(async () => !(await popover(A.page)), { what: 'link editor closed' });
  const ops = await contents(A.page);
  assert(ops[0].insert === 'Hi there' && JSON.stringify(ops[0].attributes) === '{"link":"https://example.com/docs"}',
    `Delta: ${JSON.stringify(ops)}`);
  assert(ops[1]?.insert?.startsWith(' world\n'), `the rest: ${JSON.stringify(ops)}`);
  await synced(A.page);
});

await step('clicking the link shows its URL, Edit and Remove, inside the window; Edit has its text and URL', async () => {
  await A.page.click('.ql-editor a', { position: { x: 3, y: 5 } });
  const box = await until(() => popover(A.page), { what: 'link preview' });
  assert(box.mode === 'preview' && box.inside, `preview: ${JSON.stringify(box)}`);
  const url = await A.page.locator('.qe-link-url').textContent();
  assert(url === 'https://example.com/docs', `preview URL ${url}`);
  await shot(A.page, 'feel-link-preview-390');
  await A.page.click('.qe-link-view button:has-text("Edit")');
  const fields = await A.page.evaluate(() => [document.querySelector('.qe-link-text').value, document.querySelector('.qe-link-input').value]);
  assert(fields[0] === 'Hi there' && fields[1] === 'https://example.com/docs', `edit fields ${fields}`);
  await A.page.keyboard.press('Escape');
  await until(async () => !(await popover(A.page)), { what: 'closed by Escape' });
});

await step('1280 px: a word at the far right of a line also gets a popover inside the window', async () => {
  await A.page.setViewportSize(DESKTOP);
  await A.page.evaluate(() => {
    const { quill } = window.__quire;
    quill.insertText(quill.getLength() - 1, 'word '.repeat(60), 'user');
  });
  // The character furthest to the right on the long paragraph's first visual line.
  const index = await A.page.evaluate(() => {
    const { quill } = window.__quire;
    const start = quill.getLength() - 1 - 300;
    const top = quill.getBounds(start, 1).top;
    let best = start;
    for (let i = start; i < start + 300; i++) {
      const b = quill.getBounds(i, 1);
      if (b.top === top && b.right > quill.getBounds(best, 1).right && quill.getText(i, 1) !== ' ') best = i;
    }
    return best;
  });
  await A.page.evaluate((i) => window.__quire.quill.setSelection(i, 1, 'user'), index);
  await A.page.keyboard.press('Control+k');
  const box = await until(() => popover(A.page), { what: 'link editor at the right edge' });
  assert(box.inside, `outside the window: ${JSON.stringify(box)}`);
  await shot(A.page, 'feel-link-editor-right-1280');
  await A.page.keyboard.press('Escape');
  await A.page.evaluate(() => {
    const { quill } = window.__quire;
    quill.deleteText(quill.getLength() - 1 - 300, 300, 'user');
  });
  await A.page.setViewportSize(PHONE);
  await synced(A.page);
});

await step('"# ", "> " and "```" + Enter make a heading, a quote and a code block without their markers', async () => {
  // Lines 2-5 are empty: the caret goes to each and the shortcut is typed.
  const startOf = (n) => A.page.evaluate((k) => {
    const { quill } = window.__quire;
    quill.focus();
    quill.setSelection(quill.getIndex(quill.getLines()[k]), 0, 'user');
  }, n);
  await startOf(1);
  await A.page.keyboard.type('# Title');
  await startOf(2);
  await A.page.keyboard.type('> Quoted');
  await startOf(3);
  await A.page.keyboard.type('```');
  await A.page.keyboard.press('Enter');
  await A.page.keyboard.type('let x = 1;');
  const got = await lines(A.page);
  assert(got[1].text === 'Title' && got[1].format.header === 1, `heading: ${JSON.stringify(got[1])}`);
  assert(got[2].text === 'Quoted' && got[2].format.blockquote === true, `quote: ${JSON.stringify(got[2])}`);
  assert(got[3].text === 'let x = 1;' && got[3].format['code-block'], `code: ${JSON.stringify(got[3])}`);
  await synced(A.page);
});

await step('one Ctrl+Z after "## " gives back the typed marker', async () => {
  await A.page.evaluate(() => {
    const { quill } = window.__quire;
    quill.focus();
    quill.setSelection(quill.getIndex(quill.getLines()[4]), 0, 'user');
  });
  // Each pause outlasts the history's merge delay (500 ms): typing apart from the shortcut.
  await new Promise((r) => setTimeout(r, 600));
  await A.page.keyboard.type('##');
  await new Promise((r) => setTimeout(r, 600));
  await A.page.keyboard.type(' ');
  let got = await lines(A.page);
  assert(got[4].text === '' && got[4].format.header === 2, `h2: ${JSON.stringify(got[4])}`);
  await A.page.keyboard.press('Control+z');
  got = await lines(A.page);
  assert(got[4].text === '## ' && !got[4].format.header, `after undo: ${JSON.stringify(got[4])}`);
  for (let i = 0; i < 3; i++) await A.page.keyboard.press('Backspace');
  got = await lines(A.page);
  assert(got[4].text === '' && got[3].text === 'let x = 1;', `after clearing it: ${JSON.stringify(got.slice(3, 5))}`);
  await synced(A.page);
});

await step('a second page on the document receives the heading (the shortcut went through OT)', async () => {
  const B = await logIn(A.email, DESKTOP);
  await B.page.goto(docUrl);
  await loaded(B.page);
  const got = await until(async () => {
    const l = await lines(B.page);
    return l[1]?.text === 'Title' && l[1].format.header === 1 && l[2]?.format.blockquote && l;
  }, { what: 'the heading on the second page' });
  assert(await B.page.locator('.ql-editor h1', { hasText: 'Title' }).count() === 1, `no h1 on B: ${JSON.stringify(got)}`);
  // And an edit from there arrives back: the two pages are one document.
  await B.page.evaluate(() => window.__quire.quill.insertText(0, 'B ', 'user'));
  await until(async () => (await lines(A.page))[0].text.startsWith('B Hi there'), { what: 'B\'s edit on A' });
  await B.ctx.close();
});

await step('a title change is a toast: the save status stays, the avatars stay put; Enter goes back to the text', async () => {
  const avatarsBefore = await A.page.evaluate(() => document.querySelector('.qe-presence').getBoundingClientRect().toJSON());
  await A.page.fill('.qe-title', 'Feel notes');
  await A.page.press('.qe-title', 'Enter');
  const inText = await A.page.evaluate(() => !!document.activeElement?.closest('.ql-editor'));
  assert(inText, `focus after Enter: ${await A.page.evaluate(() => document.activeElement?.className)}`);
  await until(() => A.page.evaluate(() => [...document.querySelectorAll('.qe-toast')].some((t) => t.textContent === 'Title saved')), { what: 'the toast' });
  const toasts = await A.page.evaluate(() => {
    const region = document.querySelector('.qe-toasts');
    const r = region.getBoundingClientRect();
    return { role: region.getAttribute('role'), live: region.getAttribute('aria-live'), inside: r.left >= 0 && r.right <= innerWidth && r.bottom <= innerHeight };
  });
  assert(toasts.role === 'status' && toasts.live === 'polite' && toasts.inside, `toast region ${JSON.stringify(toasts)}`);
  const status = await statusText(A.page);
  assert(['Saved', 'Saving…'].includes(status), `the save status shows "${status}"`);
  const avatarsAfter = await A.page.evaluate(() => document.querySelector('.qe-presence').getBoundingClientRect().toJSON());
  assert(JSON.stringify(avatarsAfter) === JSON.stringify(avatarsBefore), `avatars moved: ${JSON.stringify([avatarsBefore, avatarsAfter])}`);
  await shot(A.page, 'feel-toast-390');
  await until(() => A.page.evaluate(() => document.querySelectorAll('.qe-toast').length === 0), { what: 'the toast gone', timeout: 8000 });
  assert((await A.page.title()) === 'Feel notes · Quire', `tab title ${await A.page.title()}`);
});

await step('dark system setting: the editor is dark with light text (AA), toolbar icons visible', async () => {
  await A.page.setViewportSize(DESKTOP);
  await A.page.emulateMedia({ colorScheme: 'dark' });
  const body = await colours(A.page, 'body');
  const text = await colours(A.page, '.ql-editor p');
  const heading = await colours(A.page, '.ql-editor h1');
  const status = await colours(A.page, '.qe-status');
  assert(luminance(body.bg) < 0.05, `page background ${body.bg}`);
  assert(luminance(text.bg) < 0.05 && luminance(text.fg) > 0.6, `text ${text.fg} on ${text.bg}`);
  for (const [what, c] of [['text', text], ['heading', heading], ['status', status]]) {
    assert(contrast(c.fg, c.bg) >= 4.5, `${what}: ${c.fg} on ${c.bg} is ${contrast(c.fg, c.bg).toFixed(2)}:1`);
  }
  const icon = await A.page.evaluate(() => getComputedStyle(document.querySelector('.ql-toolbar .ql-bold .ql-stroke')).stroke);
  const bar = await colours(A.page, '.ql-toolbar');
  assert(contrast(icon, bar.bg) >= 3, `toolbar icon ${icon} on ${bar.bg}`);
  await A.page.evaluate(() => window.__quire.quill.setSelection(0, 1, 'user'));
  await A.page.keyboard.press('Control+k');
  await until(() => popover(A.page), { what: 'the link editor in dark' });
  await shot(A.page, 'feel-dark-editor-1280');
  await A.page.keyboard.press('Escape');
});

await step('dark system setting: the dashboard is dark with light text (AA)', async () => {
  await A.page.goto(`${base}/`);
  const body = await colours(A.page, 'body');
  const link = await colours(A.page, 'a.title');
  assert(luminance(body.bg) < 0.05 && luminance(body.fg) > 0.6, `dashboard ${body.fg} on ${body.bg}`);
  assert(contrast(link.fg, link.bg) >= 4.5, `title link ${link.fg} on ${link.bg}`);
  await shot(A.page, 'feel-dark-dashboard-1280');
  await A.page.setViewportSize(PHONE);
  await shot(A.page, 'feel-dark-dashboard-390');
});

await run.finish();
