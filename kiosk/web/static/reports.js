// The report page: the print button, and the date fields used only for "Pilih tanggal".
(() => {
  "use strict";
  const button = document.querySelector("[data-print]");
  if (button) button.addEventListener("click", () => window.print());
  const form = document.querySelector("form.filters");
  if (!form) return;
  const dates = form.querySelectorAll("input[type=date]");
  const sync = () => {
    const custom = form.querySelector("input[name=range]:checked")?.value === "custom";
    for (const input of dates) input.disabled = !custom;
  };
  form.addEventListener("change", sync);
  sync();
})();
