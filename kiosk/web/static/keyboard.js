// Giliran's own on-screen keyboard and number pad for touch-only kiosks: large keys, one finger,
// no system keyboard (the inputs say inputmode="none"). Keys type at the end of their input and
// fire an "input" event, so a page treats them like typing.
(() => {
  "use strict";

  const LETTERS = [
    ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"],
    ["Q", "W", "E", "R", "T", "Y", "U", "I", "O", "P"],
    ["A", "S", "D", "F", "G", "H", "J", "K", "L", "-"],
    ["Z", "X", "C", "V", "B", "N", "M", "/", "."],
  ];
  const DIGITS = [["1", "2", "3"], ["4", "5", "6"], ["7", "8", "9"]];

  function key(label, text, className, name) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "key" + (className ? " " + className : "");
    button.textContent = label;
    button.dataset.key = text;
    if (name) button.setAttribute("aria-label", name);
    return button;
  }

  function row(keys) {
    const line = document.createElement("div");
    line.className = "key-row";
    line.append(...keys);
    return line;
  }

  function wire(container, input, maxLength) {
    container.addEventListener("click", (event) => {
      const button = event.target.closest("button.key");
      if (!button || !container.contains(button)) return;
      const k = button.dataset.key;
      let value = input.value;
      if (k === "backspace") value = value.slice(0, -1);
      else if (k === "clear") value = "";
      else if (value.length < maxLength) value += k;
      if (value === input.value) return;
      input.value = value;
      input.dispatchEvent(new Event("input", { bubbles: true }));
    });
  }

  // Letters, digits and the marks people type in names of documents (e-KTP, AK/1).
  function keyboard(container, input) {
    container.replaceChildren(
      ...LETTERS.map((keys) => row(keys.map((k) => key(k, k.toLowerCase())))),
      row([key("Spasi", " ", "wide", "Spasi"), key("⌫", "backspace", "action", "Hapus satu huruf"),
           key("Kosongkan", "clear", "action", "Kosongkan pencarian")]));
    wire(container, input, 40);
  }

  // Digits for a phone number.
  function keypad(container, input) {
    container.replaceChildren(
      ...DIGITS.map((keys) => row(keys.map((k) => key(k, k)))),
      row([key("⌫", "backspace", "action", "Hapus satu angka"), key("0", "0"),
           key("Hapus", "clear", "action", "Kosongkan nomor")]));
    wire(container, input, 20);
  }

  window.GiliranKeys = { keyboard, keypad };
})();
