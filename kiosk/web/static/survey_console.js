// The console's line about the officer's own IKM (90 days, only over at least 10 responses; never an answer).
(() => {
  "use strict";
  const line = document.getElementById("own-ikm");
  if (!line) return;
  fetch("/api/surveys/mine", { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : null)).then((mine) => {
    if (!mine) return;
    line.textContent = mine.ikm === null
      ? ` · IKM Anda (90 hari): belum cukup penilaian (${mine.responses} dari minimal ${mine.minimum})`
      : ` · IKM Anda (90 hari): ${mine.ikm.toFixed(2).replace(".", ",")}, mutu ${mine.grade} (${mine.mutu}), ` +
        `${mine.responses} penilaian`;
    line.hidden = false;
    window.giliranOwnIkm = mine;
  }).catch(() => { /* the console works without it */ });
})();
