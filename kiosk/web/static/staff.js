// Staff console: the counter's current ticket, the buttons (with keyboard shortcuts), the waiting
// list and today's no-shows, live over the event stream so two tabs on one counter stay consistent.
// Safeguards: "next" on a called ticket that has not started asks first; every call says which
// number the console shows as current, so a stale screen never closes someone else's turn.
(() => {
  "use strict";
  const root = document.getElementById("console");
  if (!root) return;
  const counterId = root.dataset.counter;
  const csrf = root.dataset.csrf;
  const data = JSON.parse(document.getElementById("console-data").textContent);
  const $ = (id) => document.getElementById(id);
  const state = { counter: null, waiting: [], noShows: [], busy: false, offline: false, refreshes: 0, pending: null,
                  fetchedAt: Date.now() };
  window.giliranConsole = state;
  const STATE_TEXT = { called: "Dipanggil, menunggu warga datang", serving: "Sedang dilayani" };
  const OFFLINE = "Tidak dapat menghubungi server. Periksa jaringan, lalu coba lagi.";
  const base = `/api/counters/${encodeURIComponent(counterId)}`;

  class ApiError extends Error {
    constructor(message, code) { super(message); this.code = code; }
  }

  async function api(method, url, body) {
    let response;
    try {
      response = await fetch(url, {
        method, credentials: "same-origin",
        headers: Object.assign({ "X-CSRF-Token": csrf }, body ? { "Content-Type": "application/json" } : {}),
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch (err) {
      setOffline(true);
      throw new ApiError(OFFLINE, "offline"); // never the browser's "Failed to fetch"
    }
    setOffline(false);
    if (response.status === 401) { window.location.href = "/staff/login"; throw new ApiError("login", "login"); }
    let answer = null;
    try { answer = response.status === 204 ? null : await response.json(); } catch (err) { answer = null; }
    if (!response.ok) {
      const error = answer && answer.error;
      throw new ApiError((error && error.message) || `Server menjawab ${response.status}. Coba lagi.`, error && error.code);
    }
    return { status: response.status, data: answer };
  }

  function setOffline(offline) {
    if (state.offline === offline) return;
    state.offline = offline;
    $("offline").hidden = !offline;
    if (offline) setTimeout(retry, 3000);
  }

  function retry() { if (state.offline) refresh().finally(() => { if (state.offline) setTimeout(retry, 3000); }); }

  function say(text) { $("message").textContent = text; }

  function minutes(seconds) {
    if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
    const m = Math.floor(seconds / 60), s = Math.round(seconds % 60);
    return `${m} mnt ${String(s).padStart(2, "0")} dtk`;
  }

  // Waiting times as the server counts them (its clock, not this PC's), ticking on from the last refresh.
  function waited(seconds) {
    const m = Math.max(0, Math.floor((seconds + (Date.now() - state.fetchedAt) / 1000) / 60));
    return m < 60 ? `${m} mnt` : `${Math.floor(m / 60)} j ${m % 60} mnt`;
  }

  function priorityText(t) {
    return t.priority ? (data.priorities[t.priority_reason] || "Prioritas") : "";
  }

  // --- rendering ----------------------------------------------------------------------------------
  function render() {
    const c = state.counter;
    if (!c) return;
    const cur = c.current;
    $("current-number").textContent = cur ? cur.number : "—";
    $("current-service").textContent = cur ? [data.services[cur.service] || cur.service, priorityText(cur)]
      .filter(Boolean).join(" · ") : "";
    $("current-state").textContent = cur ? (STATE_TEXT[cur.state] || cur.state) : "Belum ada nomor dipanggil.";
    $("served").textContent = String(c.served_today);
    $("mean").textContent = c.mean_service_s ? minutes(c.mean_service_s) : "—";
    $("paused").hidden = !c.paused;
    const pause = $("pause");
    pause.textContent = c.paused ? "Lanjutkan" : "Istirahat";
    pause.dataset.action = c.paused ? "resume" : "pause";
    pause.classList.toggle("resume", c.paused);
    const has = (s) => cur && cur.state === s;
    const enable = { next: !c.paused, recall: has("called"), start: has("called"), finish: has("serving"),
                     "no-show": has("called"), transfer: !!cur, reprint: !!cur, "call-number": !c.paused };
    for (const b of document.querySelectorAll(".controls button[data-action]")) {
      b.disabled = state.busy || (b.id !== "pause" && !enable[b.dataset.action]);
    }
  }

  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function serviceCell(code) {
    const td = cell(data.services[code] || code, "svc");
    td.title = td.textContent;
    return td;
  }

  function rowButton(label, name, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "small-button";
    b.textContent = label;
    b.setAttribute("aria-label", name);
    b.addEventListener("click", onClick);
    return b;
  }

  function renderLists() {
    const tbody = $("waiting");
    tbody.replaceChildren();
    for (const t of state.waiting) {
      const tr = document.createElement("tr");
      tr.dataset.number = t.number;
      if (t.priority) tr.className = "prio";
      const actions = document.createElement("td");
      actions.className = "actions";
      actions.append(rowButton("Panggil", `Panggil ${t.number}`, () => callNumber(t.number)),
                     rowButton("Cetak", `Cetak ulang ${t.number}`, () => reprint(t)));
      tr.append(cell(t.number, "num"), serviceCell(t.service), cell(priorityText(t), "why"),
                cell(waited(t.waited_s), "wait"), actions);
      tbody.append(tr);
    }
    $("waiting-count").textContent = String(state.waiting.length);
    $("waiting-empty").hidden = state.waiting.length > 0;
    const nbody = $("noshows");
    nbody.replaceChildren();
    for (const t of state.noShows) {
      const tr = document.createElement("tr");
      tr.dataset.number = t.number;
      const actions = document.createElement("td");
      actions.className = "actions";
      actions.append(rowButton("Kembalikan", `Masukkan ${t.number} kembali ke antrean`, () => requeue(t)),
                     rowButton("Cetak", `Cetak ulang ${t.number}`, () => reprint(t)));
      tr.append(cell(t.number, "num"), serviceCell(t.service),
                cell(waited(t.since_s), "wait"), actions);
      nbody.append(tr);
    }
    $("noshow-count").textContent = String(state.noShows.length);
    $("noshow-empty").hidden = state.noShows.length > 0;
  }

  function tickTimer() {
    const cur = state.counter && state.counter.current;
    $("timer").textContent = cur && cur.since ? minutes((Date.now() - Date.parse(cur.since)) / 1000) : "—";
  }

  async function refresh() {
    try {
      const [counters, waiting, noShows] = await Promise.all([
        api("GET", "/api/counters"), api("GET", `${base}/queue`), api("GET", `${base}/no-shows`)]);
      state.counter = counters.data.find((c) => c.id === counterId);
      state.waiting = waiting.data;
      state.noShows = noShows.data;
      state.fetchedAt = Date.now();
      state.refreshes += 1;
      renderLists();
      tickTimer();
    } catch (err) { /* offline: the banner says so and a retry is scheduled */ }
    render();
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

  // --- actions ------------------------------------------------------------------------------------
  async function run(work) {
    if (state.busy) return;
    state.busy = true;
    render();
    try {
      say(await work());
    } catch (err) {
      say(err.message);
    } finally {
      state.busy = false;
      render(); // the buttons come back at once, even when the server could not be reached
      await refresh();
    }
  }

  function shown() { const cur = state.counter && state.counter.current; return cur ? cur.number : ""; }

  function calledText(result) {
    const t = result.data.ticket;
    const closed = result.data.closed;
    const before = closed ? `${closed.number} ${closed.state === "no_show" ? "ditandai tidak hadir" : "selesai"}. ` : "";
    return before + (t ? `Memanggil ${t.number} (${t.service_name}).` : "Tidak ada yang menunggu.");
  }

  function call(body) {
    return run(async () => {
      try {
        return calledText(await api("POST", `${base}/call`, Object.assign({ expect: shown() }, body)));
      } catch (err) {
        if (err.code === "confirm_no_show") { confirmNoShow(body); return ""; }
        throw err;
      }
    });
  }

  function confirmNoShow(body) {
    const cur = state.counter && state.counter.current;
    if (!cur) return;
    $("confirm-number").textContent = cur.number;
    $("confirm-yes").textContent = body.number ? `Ya, tidak hadir · panggil ${body.number}`
      : "Ya, tidak hadir · panggil berikutnya";
    state.pending = Object.assign({}, body, { no_show: true });
    $("confirm").showModal();
  }

  function next() {
    const cur = state.counter && state.counter.current;
    if (cur && cur.state === "called") { confirmNoShow({}); return; } // ask before someone loses a turn
    call({});
  }

  function callNumber(number) {
    const cur = state.counter && state.counter.current;
    if (cur && cur.state === "called") { confirmNoShow({ number }); return; }
    call({ number });
  }

  function action(name) {
    const label = { recall: "dipanggil ulang", start: "mulai dilayani", finish: "selesai", "no-show": "tidak hadir",
                    transfer: "dialihkan" }[name];
    return run(async () => {
      const body = name === "transfer" ? { service: $("transfer-service").value } : undefined;
      const result = await api("POST", `${base}/${name}`, body);
      if (name === "pause") return "Loket istirahat. Warga tidak dipanggil ke loket ini sampai Anda menekan Lanjutkan.";
      if (name === "resume") return "Loket kembali melayani.";
      return `${result.data.ticket.number} ${label}.`;
    });
  }

  function requeue(t) {
    return run(async () => {
      await api("POST", `/api/tickets/${encodeURIComponent(t.token)}/requeue`);
      return `${t.number} masuk kembali ke antrean di tempatnya semula.`;
    });
  }

  function reprint(t) {
    return run(async () => {
      const result = await api("POST", `/api/tickets/${encodeURIComponent(t.token)}/reprint`);
      return `Tiket ${t.number} dicetak ulang di printer ${result.data.printer}.`;
    });
  }

  function act(name) {
    const button = document.querySelector(`.controls button[data-action="${name}"]`);
    if (state.busy || (button && button.disabled)) return;
    if (name === "next") next();
    else if (name === "call-number") openCallDialog();
    else if (name === "reprint") { const cur = state.counter.current; reprint(cur); }
    else action(name);
  }

  function openCallDialog() {
    $("call-number").value = "";
    $("call-message").textContent = "";
    $("call-dialog").showModal();
    $("call-number").focus();
  }

  $("call-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const number = $("call-number").value.trim().toUpperCase();
    if (!state.waiting.some((t) => t.number === number)) {
      $("call-message").textContent = `${number || "Nomor itu"} tidak ada di daftar tunggu loket ini.`;
      return;
    }
    $("call-dialog").close();
    callNumber(number);
  });
  $("call-cancel").addEventListener("click", () => $("call-dialog").close());
  $("confirm-yes").addEventListener("click", () => { $("confirm").close(); if (state.pending) call(state.pending); });
  $("confirm-recall").addEventListener("click", () => { $("confirm").close(); action("recall"); });
  $("confirm-cancel").addEventListener("click", () => { $("confirm").close(); say("Dibatalkan; nomor tetap dipanggil."); });

  for (const b of document.querySelectorAll(".controls button[data-action]")) {
    b.addEventListener("click", () => act(b.dataset.action));
  }
  const KEYS = { n: "next", u: "recall", m: "start", s: "finish", t: "no-show", p: "call-number", c: "reprint" };
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.repeat || document.querySelector("dialog[open]")) return;
    if (["INPUT", "SELECT", "TEXTAREA"].includes(e.target.tagName)) return;
    const name = KEYS[e.key.toLowerCase()];
    if (name) { e.preventDefault(); act(name); }
  });

  let soonTimer = null;
  const soon = () => { clearTimeout(soonTimer); soonTimer = setTimeout(refresh, 100); };
  const source = new EventSource("/api/events");
  for (const type of ["snapshot", "ticket.called", "queue.changed", "counter.changed"]) source.addEventListener(type, soon);
  setInterval(() => { tickTimer(); if (state.waiting.length) renderWaitTimes(); }, 1000);
  setInterval(refresh, 30000); // pause/resume and finish of another tab without a public event
  function renderWaitTimes() {
    for (const tr of $("waiting").children) {
      const t = state.waiting.find((w) => w.number === tr.dataset.number);
      if (t) tr.querySelector(".wait").textContent = waited(t.waited_s);
    }
  }
  refresh();
})();
