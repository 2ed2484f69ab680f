// Staff console: the counter's current ticket, the buttons (with keyboard shortcuts), the waiting
// list, live over the event stream so two tabs on one counter stay consistent.
(() => {
  "use strict";
  const root = document.getElementById("console");
  if (!root) return;
  const counterId = root.dataset.counter;
  const csrf = root.dataset.csrf;
  const $ = (id) => document.getElementById(id);
  const state = { counter: null, busy: false, refreshes: 0 };
  window.giliranConsole = state;
  const STATE_TEXT = { called: "Dipanggil, menunggu warga datang", serving: "Sedang dilayani" };

  async function api(method, url, body) {
    const response = await fetch(url, {
      method, credentials: "same-origin",
      headers: Object.assign({ "X-CSRF-Token": csrf }, body ? { "Content-Type": "application/json" } : {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    if (response.status === 401) { window.location.href = "/staff/login"; throw new Error("login"); }
    const data = response.status === 204 ? null : await response.json();
    if (!response.ok) throw new Error(data.error.message);
    return { status: response.status, data };
  }

  function minutes(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    const m = Math.floor(seconds / 60), s = Math.round(seconds % 60);
    return `${m} mnt ${String(s).padStart(2, "0")} dtk`;
  }

  function render() {
    const c = state.counter;
    if (!c) return;
    const cur = c.current;
    $("current-number").textContent = cur ? cur.number : "—";
    $("current-state").textContent = cur ? (STATE_TEXT[cur.state] || cur.state) : "Belum ada nomor dipanggil.";
    $("served").textContent = String(c.served_today);
    $("mean").textContent = c.mean_service_s ? minutes(c.mean_service_s) : "—";
    const pause = $("pause");
    pause.textContent = c.paused ? "Lanjutkan" : "Istirahat";
    pause.dataset.action = c.paused ? "resume" : "pause";
    const has = (s) => cur && cur.state === s;
    const enable = { next: !c.paused, recall: has("called"), start: has("called"), finish: has("serving"),
                     "no-show": has("called"), transfer: !!cur };
    for (const b of document.querySelectorAll(".controls button[data-action]")) {
      if (b.id === "pause") { b.disabled = state.busy; continue; }
      b.disabled = state.busy || !enable[b.dataset.action];
    }
  }

  function tickTimer() {
    const cur = state.counter && state.counter.current;
    $("timer").textContent = cur && cur.since ? minutes((Date.now() - Date.parse(cur.since)) / 1000) : "—";
  }

  async function refresh() {
    try {
      const [counters, waiting] = await Promise.all([
        api("GET", "/api/counters"), api("GET", `/api/counters/${encodeURIComponent(counterId)}/queue`)]);
      state.counter = counters.data.find((c) => c.id === counterId);
      const list = $("waiting");
      list.replaceChildren();
      for (const t of waiting.data) {
        const li = document.createElement("li");
        li.textContent = t.number + (t.priority ? " ★" : "");
        if (t.priority) { li.className = "prio"; li.title = "Prioritas"; }
        list.append(li);
      }
      $("waiting-count").textContent = String(waiting.data.length);
      state.refreshes += 1;
      render();
      tickTimer();
    } catch (err) { /* shown on the next action */ }
    try {
      const printers = await fetch("/api/printers", { credentials: "same-origin" });
      if (printers.ok) {
        const bad = (await printers.json()).filter((p) => p.state === "offline" || p.state === "paper_out");
        $("printer-alert").hidden = !bad.length;
        $("printer-alert").textContent = bad.map((p) =>
          `Printer ${p.id} ${p.state === "paper_out" ? "kehabisan kertas" : "tidak terhubung"} (${p.pending} tiket menunggu)`).join(" · ");
      }
    } catch (err) { /* printers are optional */ }
  }

  async function act(action) {
    if (state.busy) return;
    const button = document.querySelector(`.controls button[data-action="${action}"]`);
    if (button && button.disabled) return;
    state.busy = true;
    render();
    try {
      const body = action === "transfer" ? { service: $("transfer-service").value } : undefined;
      const result = await api("POST", `/api/counters/${encodeURIComponent(counterId)}/${action}`, body);
      $("message").textContent = result.status === 204 ? "Tidak ada yang menunggu." :
        (result.data && result.data.ticket ? `${result.data.ticket.number}: ${result.data.ticket.state_label}` : "");
    } catch (err) {
      $("message").textContent = err.message;
    } finally {
      state.busy = false;
      await refresh();
    }
  }

  for (const b of document.querySelectorAll(".controls button[data-action]")) {
    b.addEventListener("click", () => act(b.dataset.action));
  }
  const KEYS = { n: "next", u: "recall", m: "start", s: "finish", t: "no-show" };
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || ["INPUT", "SELECT", "TEXTAREA"].includes(e.target.tagName)) return;
    const action = KEYS[e.key.toLowerCase()];
    if (action) { e.preventDefault(); act(action); }
  });

  let pending = null;
  const soon = () => { clearTimeout(pending); pending = setTimeout(refresh, 100); };
  const source = new EventSource("/api/events");
  for (const type of ["snapshot", "ticket.called", "queue.changed", "counter.changed"]) {
    source.addEventListener(type, soon);
  }
  setInterval(tickTimer, 1000);
  setInterval(refresh, 30000); // pause/resume and finish of another tab without a public event
  refresh();
})();
