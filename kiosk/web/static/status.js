// The citizen's ticket page: follows its ticket's own event stream (no polling, no hall-wide stream).
(() => {
  "use strict";
  const root = document.getElementById("ticket");
  if (!root) return;
  const token = root.dataset.token;
  const $ = (id) => document.getElementById(id);
  const state = { ticket: null, refreshes: 0 };
  window.giliranTicket = state;

  function beep() {
    try {
      const ctx = new (window.AudioContext || window.webkitAudioContext)();
      const osc = ctx.createOscillator();
      osc.frequency.value = 880;
      osc.connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.6);
    } catch (err) { /* a phone that cannot play sound still shows the call */ }
    if (navigator.vibrate) navigator.vibrate([400, 200, 400, 200, 400]);
  }

  function render(t) {
    const was = state.ticket && state.ticket.state;
    state.ticket = t;
    $("state").textContent = t.state_label.charAt(0).toUpperCase() + t.state_label.slice(1);
    const waiting = t.state === "waiting";
    for (const id of ["ahead", "ahead-label", "wait", "wait-label"]) $(id).hidden = !waiting;
    $("ahead").textContent = String(t.ahead);
    $("wait").textContent = t.estimated_wait_text;
    const called = t.state === "called";
    $("called").hidden = !called;
    if (called) {
      $("called-counter").textContent = t.counter_name || t.counter || "";
      if (was !== "called") beep();
    }
    if (!["waiting", "called", "serving"].includes(t.state) && $("actions")) $("actions").hidden = true;
    if (!waiting && $("cancel-box")) $("cancel-box").hidden = true;
  }

  // The ticket's own stream: the server sends this ticket's view when what the page shows changes.
  function follow() {
    const source = new EventSource(`/api/tickets/${encodeURIComponent(token)}/events`);
    source.addEventListener("ticket", (e) => { state.refreshes += 1; render(JSON.parse(e.data)); });
    source.onopen = () => { $("live").textContent = "Halaman ini diperbarui otomatis."; };
    source.onerror = () => { $("live").textContent = "Koneksi terputus; mencoba menyambung kembali…"; };
  }

  const phoneForm = $("phone-form");
  if (phoneForm) {
    phoneForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const response = await fetch(`/api/tickets/${encodeURIComponent(token)}/phone`, {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ phone: $("phone").value }),
      });
      const data = await response.json();
      $("phone-result").textContent = response.ok
        ? "✓ Nomor tersimpan. Kami kirim SMS saat giliran Anda dekat dan saat dipanggil."
        : data.error.message;
    });
  }
  const cancel = $("cancel");
  if (cancel) {
    cancel.addEventListener("click", () => { cancel.hidden = true; $("cancel-confirm").hidden = false; });
    $("cancel-confirm").addEventListener("click", async () => {
      const response = await fetch(`/api/tickets/${encodeURIComponent(token)}`, { method: "DELETE" });
      const data = await response.json();
      if (response.ok) render(data); else $("live").textContent = data.error.message;
    });
  }
  follow();
})();
