// Where a popover anchored to a piece of text goes so that all of it stays
// in the window: below the text if it fits, else above, else as far down as
// it can; never past the left or right edge. Pure (viewport coordinates in,
// viewport coordinates out) so the edge cases are unit-tested.

export const EDGE_GAP = 8; // px kept free between the popover and the window's edge
const TEXT_GAP = 6; // px between the text and the popover

export function placePopover(anchor, size, viewport, gap = EDGE_GAP) {
  const maxLeft = viewport.width - size.width - gap;
  const left = Math.max(gap, Math.min(anchor.left, maxLeft));
  const below = anchor.bottom + TEXT_GAP;
  const above = anchor.top - TEXT_GAP - size.height;
  let top;
  if (below + size.height <= viewport.height - gap) top = below;
  else if (above >= gap) top = above;
  else top = Math.max(gap, viewport.height - gap - size.height);
  return { left, top };
}
