// Giliran touch kiosk: choose a service, say whether priority is needed, get the number on screen.
// No links out, no framework; all server text goes in with textContent.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const kiosk = document.body.dataset.kiosk || null;
  const resetAfter = Number(document.body.dataset.resetAfter || 30);
  const state = { services: [], chosen: null, busy: false, ticket: null, timer: null, issued: 0 };
  window.giliranKiosk = state;

  const timeZone = document.body.dataset.timezone || "Asia/Jakarta";
  const timeFmt = new Intl.DateTimeFormat("id-ID", { timeZone, hour: "2-digit", minute: "2-digit", hour12: false });
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
    setTimeout(() => { box.hidden = true; }, 8000);
  }

  function show(step) {
    for (const id of ["step-service", "step-priority", "step-ticket"]) $(id).hidden = id !== step;
    window.scrollTo(0, 0);
  }

  async function api(method, url, body) {
    const response = await fetch(url, {
      method, headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = response.status === 204 ? null : await response.json();
    if (!response.ok) {
      const error = new Error((data && data.error && data.error.message) || "Terjadi kesalahan. Silakan coba lagi.");
      error.code = data && data.error && data.error.code;
      throw error;
    }
    return data;
  }

  // --- services -------------------------------------------------------------------------
  function reason(s) {
    if (s.unavailable_reason === "service_closed") return `Tutup · jam layanan ${s.hours}`;
    if (s.unavailable_reason === "quota_exhausted") return "Kuota hari ini habis";
    return null;
  }

  function renderServices() {
    const query = $("search").value.trim().toLowerCase();
    const box = $("services");
    box.replaceChildren();
    const groups = new Map();
    for (const s of state.services) {
      const text = `${s.code} ${s.name} ${s.agency_name}`.toLowerCase();
      if (query && !text.includes(query)) continue;
      if (!groups.has(s.agency_name)) groups.set(s.agency_name, []);
      groups.get(s.agency_name).push(s);
    }
    if (!groups.size) { box.append(el("p", "loading", "Layanan tidak ditemukan. Coba kata lain.")); return; }
    for (const [agency, services] of groups) {
      const section = el("section", "agency");
      section.append(el("h2", "", agency));
      const grid = el("div", "grid");
      for (const s of services) {
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
        grid.append(button);
      }
      section.append(grid);
      box.append(section);
    }
  }

  async function loadServices() {
    try {
      state.services = await api("GET", "/api/services");
      renderServices();
    } catch (err) {
      $("services").replaceChildren(el("p", "loading", "Layanan belum dapat dimuat. Mencoba lagi…"));
    }
  }

  function choose(service) {
    state.chosen = service;
    $("chosen-service").textContent = `${service.code} · ${service.name}`;
    show("step-priority");
  }

  // --- taking the number (one request at a time: a double tap never makes two tickets) --------
  async function take(priorityReason) {
    if (state.busy || !state.chosen) return;
    state.busy = true;
    for (const b of document.querySelectorAll(".choice")) b.disabled = true;
    try {
      const body = { service: state.chosen.code };
      if (kiosk) body.kiosk = kiosk;
      if (priorityReason) body.priority_reason = priorityReason;
      const ticket = await api("POST", "/api/tickets", body);
      state.issued += 1;
      showTicket(ticket);
    } catch (err) {
      showError(err.message);
      show("step-service");
      loadServices();
    } finally {
      state.busy = false;
      for (const b of document.querySelectorAll(".choice")) b.disabled = false;
    }
  }

  function showTicket(t) {
    state.ticket = t;
    $("t-number").textContent = t.number;
    $("t-service").textContent = t.service_name + (t.priority ? " · Prioritas" : "");
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
      print.textContent = "Printer bermasalah: tiket belum tercetak. Catat nomor di atas atau pindai kode QR.";
      print.classList.add("bad");
    }
    $("t-qr").src = `/t/${encodeURIComponent(t.token)}/qr.svg`;
    $("t-telegram").hidden = !t.telegram_url;
    if (t.telegram_url) $("t-telegram-qr").src = `/t/${encodeURIComponent(t.token)}/telegram.svg`;
    $("phone").value = "";
    $("phone-result").textContent = "";
    show("step-ticket");
    startCountdown();
  }

  function startCountdown() {
    let left = resetAfter;
    $("countdown").textContent = String(left);
    clearInterval(state.timer);
    state.timer = setInterval(() => {
      left -= 1;
      $("countdown").textContent = String(Math.max(left, 0));
      if (left <= 0) reset();
    }, 1000);
  }

  function reset() {
    clearInterval(state.timer);
    state.ticket = null;
    state.chosen = null;
    $("search").value = "";
    show("step-service");
    loadServices();
  }

  // --- optional phone for SMS ------------------------------------------------------------------
  $("phone-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!state.ticket) return;
    startCountdown();
    try {
      await api("POST", `/api/tickets/${encodeURIComponent(state.ticket.token)}/phone`, { phone: $("phone").value });
      $("phone-result").textContent = "✓ Nomor tersimpan. Kami kirim SMS saat giliran Anda dekat.";
    } catch (err) {
      $("phone-result").textContent = err.message;
    }
  });

  for (const b of document.querySelectorAll(".choice")) {
    b.addEventListener("click", () => take(b.dataset.priority));
  }
  $("back").addEventListener("click", () => show("step-service"));
  $("done").addEventListener("click", reset);
  $("search").addEventListener("input", renderServices);
  document.addEventListener("contextmenu", (e) => e.preventDefault()); // no long-press menus on the kiosk

  tick();
  setInterval(tick, 10000);
  loadServices();
  setInterval(() => { if (!$("step-service").hidden) loadServices(); }, 30000);
  // An admin changed services, quotas or hours: show it at once (the stream reconnects by itself).
  new EventSource("/api/events").addEventListener("hall.changed", () => loadServices());
})();
