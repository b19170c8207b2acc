// The suggestion marks as Quill formats: inline blots (<span>) whose value
// {id, by} lives in data-suggest-id and data-suggest-by, so getContents()
// gives back the object the op carried (docs/protocol-notes.md). Their
// colour and strike-through come from editor.css and suggest-view.js.

import Quill from 'quill';
import { INSERT, DELETE } from './suggest-marks.js';

const Inline = Quill.import('blots/inline');

class SuggestMark extends Inline {
  static tagName = 'SPAN';

  static create(value) {
    const node = super.create(value);
    node.dataset.suggestId = String(value?.id ?? '');
    node.dataset.suggestBy = String(value?.by ?? '');
    return node;
  }

  static formats(node) {
    return { id: node.dataset.suggestId ?? '', by: node.dataset.suggestBy ?? '' };
  }

  // Parchment merges neighbours whose formats are `===`, which two objects
  // never are: runs of one suggestion typed or received one at a time would
  // stay separate <span>s. Merge them when they are the same suggestion.
  optimize(context) {
    super.optimize(context);
    const next = this.next;
    if (next instanceof SuggestMark && next.prev === this && next.statics.blotName === this.statics.blotName
      && next.domNode.dataset.suggestId === this.domNode.dataset.suggestId
      && next.domNode.dataset.suggestBy === this.domNode.dataset.suggestBy && this.domNode.parentNode) {
      next.moveChildren(this);
      next.remove();
    }
  }
}

class SuggestInsert extends SuggestMark {
  static blotName = INSERT;
  static className = 'qe-suggest-ins';
}

class SuggestDelete extends SuggestMark {
  static blotName = DELETE;
  static className = 'qe-suggest-del';
}

let registered = false;
export function registerSuggestFormats() {
  if (registered) return;
  registered = true;
  Quill.register({ [`formats/${INSERT}`]: SuggestInsert, [`formats/${DELETE}`]: SuggestDelete }, true);
}
