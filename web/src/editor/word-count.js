// Words and characters, counted roughly as Google Docs does: a word is a run
// of anything but white space, a character is any character but a line
// break (so the newline Quill keeps at the end counts for nothing).

export function countWords(text) {
  return text.split(/\s+/).filter(Boolean).length;
}

export function countCharacters(text) {
  let n = 0;
  for (const ch of text) if (ch !== '\n') n++; // by code point: an emoji is one
  return n;
}

const number = (n) => n.toLocaleString('en-US');
const plural = (n, word) => `${number(n)} ${word}${n === 1 ? '' : 's'}`;

// "340 words · 1,802 characters", or with a selection
// "12 of 340 words · 60 of 1,802 characters".
export function countsText(docText, selectedText = '') {
  const words = countWords(docText);
  const chars = countCharacters(docText);
  if (!selectedText) return `${plural(words, 'word')} · ${plural(chars, 'character')}`;
  return `${number(countWords(selectedText))} of ${plural(words, 'word')} · ${number(countCharacters(selectedText))} of ${plural(chars, 'character')}`;
}
