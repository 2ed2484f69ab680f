// The citizen's ticket page: follows its ticket's own event stream (no polling, no hall-wide stream).
(() => {
  "use strict";
  const root = document.getElementById("ticket");
  if (!root) return;
  const token = root.dataset.token;
  const $ = (id) => document.getElementById(id);
  const state = { ticket: null, refreshes: 0, soundReady: false, beeps: 0 };
  window.giliranTicket = state;
  const OFFLINE = "Tidak dapat terhubung ke server. Periksa sinyal, lalu coba lagi.";
  let audio = null;

  // Phones play sound and vibrate only after a tap on the page: the page asks for that tap once.
  function enableSound() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      audio.resume();
      tone(0.15, 0.05);
    } catch (err) { audio = null; }
    if (navigator.vibrate) navigator.vibrate(80);
    state.soundReady = true;
    $("enable-sound").hidden = true;
    $("sound-ready").hidden = false;
  }

  function tone(seconds, volume) {
    if (!audio) return;
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    gain.gain.value = volume;
    osc.frequency.value = 880;
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + seconds);
  }

  function beep() {
    state.beeps += 1;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      tone(0.6, 0.5);
    } catch (err) { /* a phone that cannot play sound still shows the call */ }
    if (navigator.vibrate) navigator.vibrate([400, 200, 400, 200, 400]);
  }

  function show(id, visible) { if ($(id)) $(id).hidden = !visible; }

  function render(t) {
    const was = state.ticket && state.ticket.state;
    state.ticket = t;
    $("state").textContent = t.state_label.charAt(0).toUpperCase() + t.state_label.slice(1);
    $("service").textContent = t.service_name; // a transfer moves the ticket to another service
    const waiting = t.state === "waiting";
    for (const id of ["ahead", "ahead-label", "wait", "wait-label", "now-label", "now-called"]) show(id, waiting);
    $("ahead").textContent = String(t.ahead);
    $("wait").textContent = t.estimated_wait_text;
    $("now-called").textContent = t.now_called || "belum ada";
    const called = t.state === "called";
    show("called", called);
    if (called) {
      $("called-counter").textContent = t.counter_name || t.counter || "";
      if (was !== "called") beep();
    }
    show("sound-card", waiting || called);
    if (!["waiting", "called", "serving"].includes(t.state)) show("actions", false);
    show("phone-form", waiting); // SMS is for the wait; once called it is too late
    show("cancel-box", waiting);
  }

  // The ticket's own stream: the server sends this ticket's view when what the page shows changes.
  function follow() {
    const source = new EventSource(`/api/tickets/${encodeURIComponent(token)}/events`);
    source.addEventListener("ticket", (e) => { state.refreshes += 1; render(JSON.parse(e.data)); });
    source.onopen = () => { $("live").textContent = "Halaman ini diperbarui otomatis."; };
    source.onerror = () => { $("live").textContent = "Koneksi terputus; mencoba menyambung kembali…"; };
  }

  async function send(method, url, body) {
    let response;
    try {
      response = await fetch(url, { method, headers: body ? { "Content-Type": "application/json" } : {},
                                    body: body ? JSON.stringify(body) : undefined });
    } catch (err) { throw new Error(OFFLINE); }
    let data = null;
    try { data = await response.json(); } catch (err) { data = null; }
    if (!response.ok) throw new Error((data && data.error && data.error.message) || "Terjadi kesalahan. Coba lagi.");
    return data;
  }

  $("enable-sound").addEventListener("click", enableSound);
  const phoneForm = $("phone-form");
  if (phoneForm) {
    phoneForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await send("POST", `/api/tickets/${encodeURIComponent(token)}/phone`, { phone: $("phone").value });
        $("phone-result").textContent = "✓ Nomor tersimpan. Kami kirim SMS saat giliran Anda dekat dan saat dipanggil.";
      } catch (err) { $("phone-result").textContent = err.message; }
    });
  }
  const cancel = $("cancel");
  if (cancel) {
    cancel.addEventListener("click", () => { cancel.hidden = true; $("cancel-ask").hidden = false; $("cancel-keep").focus(); });
    $("cancel-keep").addEventListener("click", () => { cancel.hidden = false; $("cancel-ask").hidden = true; });
    $("cancel-confirm").addEventListener("click", async () => {
      try { render(await send("DELETE", `/api/tickets/${encodeURIComponent(token)}`)); }
      catch (err) { $("live").textContent = err.message; }
    });
  }
  follow();
})();
