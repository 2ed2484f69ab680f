// Text that must never overflow its box on a hall screen (names admins type can be long): shrink
// it until it fits on one line, down to `min` of its largest size; then let it wrap and shrink on
// until it fits the box's height too. Used by the hall display and the counter-top screen.
(() => {
  "use strict";
  const wide = (el) => el.scrollWidth > el.clientWidth + 1;
  // A glyph's overhang below a tight line is not an overflow.
  const tall = (el) => el.scrollHeight > el.clientHeight + 0.2 * parseFloat(el.style.fontSize || "16");

  function fit(el, min = 0.45) {
    el.style.fontSize = "";
    el.style.whiteSpace = "nowrap";
    const largest = parseFloat(getComputedStyle(el).fontSize);
    let size = largest;
    while (wide(el) && size > largest * min) { size *= 0.92; el.style.fontSize = `${size}px`; }
    if (!wide(el)) return;
    el.style.whiteSpace = "normal"; // still too long at the smallest single-line size: wrap
    el.style.overflowWrap = "anywhere";
    while ((wide(el) || tall(el)) && size > 8) { size *= 0.92; el.style.fontSize = `${size}px`; }
  }

  window.giliranFit = fit;
})();
