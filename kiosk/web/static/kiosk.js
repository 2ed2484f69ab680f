// Giliran touch kiosk: agency (tap 1), service (tap 2), priority or not (tap 3), the number on
// screen; or search by what people call things (KK, akte, STNK), typed on the kiosk's own keyboard.
// From any step, the screen returns to the start after the kiosk's `reset_after_s` without a touch.
// No links out, no framework; all server text goes in with textContent.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const body = document.body;
  const kiosk = body.dataset.kiosk || null;
  const resetAfter = Math.max(5, Number(body.dataset.resetAfter || 30));
  const WARN_S = Math.min(10, Math.floor(resetAfter / 2)); // the visible countdown before a reset
  const data = JSON.parse($("kiosk-data").textContent);
  // A kiosk bound to a key (GILIRAN_KIOSK_KEYS) is opened once at /kiosk?kiosk=K1#key=...: the key is
  // kept in this browser's storage and taken out of the address bar, and every ticket request sends
  // it as X-Kiosk-Key. The fragment never reaches the server's logs.
  const KEY_SLOT = `giliran.kioskKey.${kiosk || ""}`;
  const kioskKey = (() => {
    const match = /(?:^#|&)key=([^&]+)/.exec(window.location.hash);
    let key = match ? decodeURIComponent(match[1]) : null;
    try {
      if (key) window.localStorage.setItem(KEY_SLOT, key); else key = window.localStorage.getItem(KEY_SLOT);
    } catch (err) { /* storage off (private window): the key lives as long as the page */ }
    if (match) window.history.replaceState(null, "", window.location.pathname + window.location.search);
    return key;
  })();
  const STEPS = ["step-start", "step-agency", "step-search", "step-priority", "step-ticket"];
  const state = { services: [], byCode: new Map(), step: "step-start", agency: null, chosen: null, from: null,
                  busy: false, ticket: null, issued: 0, resets: 0, lastTouch: Date.now(), reload: false, query: 0 };
  window.giliranKiosk = state;

  const timeFmt = new Intl.DateTimeFormat("id-ID", { timeZone: body.dataset.timezone || "Asia/Jakarta",
                                                     hour: "2-digit", minute: "2-digit", hour12: false });
  function tick() { $("clock").textContent = timeFmt.format(new Date()).replace(":", "."); }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function showError(message) {
    const box = $("error");
    box.textContent = message;
    box.hidden = false;
    clearTimeout(showError.timer);
    showError.timer = setTimeout(() => { box.hidden = true; }, 8000);
  }

  function show(step) {
    for (const id of STEPS) $(id).hidden = id !== step;
    state.step = step;
    window.scrollTo(0, 0);
  }

  const OFFLINE = "Tidak dapat terhubung ke server antrean. Silakan coba lagi sebentar lagi atau minta bantuan petugas.";

  async function api(method, url, payload) {
    let response;
    try {
      response = await fetch(url, {
        method, headers: Object.assign(payload ? { "Content-Type": "application/json" } : {},
                                       kioskKey && method === "POST" ? { "X-Kiosk-Key": kioskKey } : {}),
        body: payload ? JSON.stringify(payload) : undefined,
      });
    } catch (err) {
      throw new Error(OFFLINE); // the browser's own words ("Failed to fetch") never reach a citizen
    }
    let answer = null;
    try { answer = response.status === 204 ? null : await response.json(); } catch (err) { answer = null; }
    if (!response.ok) {
      const error = new Error((answer && answer.error && answer.error.message) || "Terjadi kesalahan. Silakan coba lagi.");
      error.code = answer && answer.error && answer.error.code;
      throw error;
    }
    return answer;
  }

  // --- services -------------------------------------------------------------------------------
  function reason(s) {
    if (s.unavailable_reason === "service_closed") return `Tutup · jam layanan ${s.hours}`;
    if (s.unavailable_reason === "quota_exhausted") return "Kuota hari ini habis";
    return null;
  }

  function serviceButton(s) {
    const button = el("button", "service-btn");
    button.type = "button";
    button.dataset.service = s.code;
    button.append(el("span", "code", s.code), el("span", "name", s.name));
    const why = reason(s);
    const meta = el("span", "meta");
    if (why) {
      button.disabled = true;
      meta.append(el("span", "why", why));
    } else {
      const parts = [`${s.waiting} menunggu`, s.estimated_wait_text];
      if (s.quota_left !== null) parts.push(`sisa kuota ${s.quota_left}`);
      meta.textContent = parts.join(" · ");
    }
    button.append(meta);
    button.addEventListener("click", () => choose(s));
    return button;
  }

  function renderAgency() {
    const box = $("agency-services");
    const list = state.services.filter((s) => s.agency === state.agency);
    box.replaceChildren(...list.map(serviceButton));
    if (!list.length) box.append(el("p", "loading", "Layanan belum dapat dimuat. Mencoba lagi…"));
  }

  async function loadServices() {
    try {
      state.services = await api("GET", "/api/services");
      state.byCode = new Map(state.services.map((s) => [s.code, s]));
      if (state.step === "step-agency") renderAgency();
      if (state.step === "step-search") renderResults(state.results || []);
    } catch (err) { /* tiles still work; the next load retries */ }
  }

  function openAgency(code) {
    const agency = data.agencies[code];
    state.agency = code;
    $("h-agency").textContent = agency.name;
    $("agency-icon").src = `/static/pictograms/${agency.icon}.svg`;
    renderAgency();
    show("step-agency");
    if (!state.services.length) loadServices();
  }

  // --- search ------------------------------------------------------------------------------------
  function renderResults(codes) {
    state.results = codes;
    const box = $("search-results");
    const query = $("search").value.trim();
    if (!query) {
      box.replaceChildren(el("p", "hint", "Ketik nama layanan, singkatannya (KK, SIM, STNK) atau nama instansinya."));
      return;
    }
    const found = codes.map((c) => state.byCode.get(c)).filter(Boolean);
    if (!found.length) {
      box.replaceChildren(el("p", "hint", "Layanan tidak ditemukan. Coba kata lain, atau kembali dan pilih instansi."));
      return;
    }
    box.replaceChildren(...found.map(serviceButton));
  }

  let searchTimer = null;
  function searchSoon() {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(async () => {
      const query = $("search").value.trim();
      const asked = ++state.query;
      if (!query) { renderResults([]); return; }
      try {
        const found = await api("GET", `/api/kiosk/search?q=${encodeURIComponent(query)}`);
        if (asked === state.query) { renderResults(found.services); state.answered = query; }
      } catch (err) {
        if (asked === state.query) $("search-results").replaceChildren(el("p", "hint", err.message));
      }
    }, 150);
  }

  function openSearch() {
    $("search").value = "";
    renderResults([]);
    show("step-search");
  }

  // --- choosing and taking the number (one request at a time: a double tap never makes two) ---------
  function choose(service) {
    state.chosen = service;
    state.from = state.step;
    $("chosen-service").textContent = `${service.code} · ${service.name}`;
    show("step-priority");
  }

  async function take(priorityReason) {
    if (state.busy || !state.chosen) return;
    state.busy = true;
    for (const b of document.querySelectorAll(".choice")) b.disabled = true;
    try {
      const payload = { service: state.chosen.code };
      if (kiosk) payload.kiosk = kiosk;
      if (priorityReason) payload.priority_reason = priorityReason;
      const ticket = await api("POST", "/api/tickets", payload);
      state.issued += 1;
      showTicket(ticket);
    } catch (err) {
      showError(err.message);
      show(state.from || "step-start");
      loadServices();
    } finally {
      state.busy = false;
      state.lastTouch = Date.now();
      for (const b of document.querySelectorAll(".choice")) b.disabled = false;
    }
  }

  function showTicket(t) {
    state.ticket = t;
    $("t-number").textContent = t.number;
    $("t-service").textContent = t.service_name + (t.priority ? " · Prioritas" : "");
    const zone = data.zones[t.service];
    $("t-zone").textContent = zone ? `Tunggu panggilan di ${zone}` : "";
    $("t-ahead").textContent = `Orang di depan Anda: ${t.ahead}`;
    $("t-wait").textContent = `Perkiraan waktu tunggu: ${t.estimated_wait_text}`;
    const print = $("t-print");
    print.className = "print";
    if (!t.print) {
      print.textContent = "Simpan nomor ini: foto layar atau pindai kode QR.";
    } else if (t.print.state === "printed") {
      print.textContent = "✓ Tiket sudah dicetak. Silakan ambil di bawah.";
      print.classList.add("ok");
    } else {
      print.textContent = t.print.message || "Printer bermasalah: tiket belum tercetak. Catat nomor di atas.";
      print.classList.add("bad");
    }
    $("t-qr").src = `/t/${encodeURIComponent(t.token)}/qr.svg`;
    $("t-telegram").hidden = !t.telegram_url;
    if (t.telegram_url) $("t-telegram-qr").src = `/t/${encodeURIComponent(t.token)}/telegram.svg`;
    if ($("phone")) { $("phone").value = ""; $("phone-result").textContent = ""; }
    $("countdown").textContent = String(resetAfter);
    show("step-ticket");
  }

  function reset() {
    state.ticket = null;
    state.chosen = null;
    state.agency = null;
    state.from = null;
    state.resets += 1;
    $("search").value = "";
    renderResults([]);
    if ($("phone")) { $("phone").value = ""; $("phone-result").textContent = ""; }
    $("idle").hidden = true;
    if (state.reload) { window.location.reload(); return; } // an admin changed the hall meanwhile
    show("step-start");
    loadServices();
  }

  // --- back to the start after a while without a touch, from any step --------------------------------
  function touched() {
    state.lastTouch = Date.now();
    $("idle").hidden = true;
  }

  function idleTick() {
    if (state.busy) { state.lastTouch = Date.now(); return; }
    if (state.step === "step-start") { $("idle").hidden = true; return; }
    const left = Math.ceil((resetAfter * 1000 - (Date.now() - state.lastTouch)) / 1000);
    if (left <= 0) { reset(); return; }
    if (state.step === "step-ticket") {
      $("countdown").textContent = String(left); // the ticket step shows its countdown all along
    } else {
      $("idle").hidden = left > WARN_S;
      $("idle-count").textContent = String(left);
    }
  }

  // --- optional phone for SMS (only where an SMS gateway is set up) ------------------------------------
  if ($("phone-form")) {
    window.GiliranKeys.keypad($("keypad"), $("phone"));
    $("phone-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!state.ticket) return;
      try {
        await api("POST", `/api/tickets/${encodeURIComponent(state.ticket.token)}/phone`, { phone: $("phone").value });
        $("phone-result").textContent = "✓ Nomor tersimpan. Kami kirim SMS saat giliran Anda dekat.";
      } catch (err) {
        $("phone-result").textContent = err.message;
      }
    });
  }

  window.GiliranKeys.keyboard($("keyboard"), $("search"));
  for (const tile of document.querySelectorAll(".tile")) {
    tile.addEventListener("click", () => openAgency(tile.dataset.agency));
  }
  for (const b of document.querySelectorAll(".choice")) b.addEventListener("click", () => take(b.dataset.priority));
  for (const b of document.querySelectorAll("[data-back]")) b.addEventListener("click", () => show(b.dataset.back));
  $("back").addEventListener("click", () => show(state.from || "step-start"));
  $("open-search").addEventListener("click", openSearch);
  $("search").addEventListener("input", searchSoon);
  $("done").addEventListener("click", reset);
  $("idle-stay").addEventListener("click", touched);
  for (const type of ["pointerdown", "keydown", "input"]) document.addEventListener(type, touched, true);
  document.addEventListener("contextmenu", (e) => e.preventDefault()); // no long-press menus on the kiosk

  tick();
  setInterval(tick, 10000);
  setInterval(idleTick, 250);
  loadServices();
  setInterval(() => { if (["step-start", "step-agency"].includes(state.step)) loadServices(); }, 30000);
  // An admin changed services, quotas or hours: show it at once (the stream reconnects by itself).
  new EventSource("/api/events").addEventListener("hall.changed", () => {
    if (state.step === "step-start") window.location.reload(); else { state.reload = true; loadServices(); }
  });
})();
