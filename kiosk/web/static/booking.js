// The /ambil page: confirm a phone with a one-time code, then take today's number or book a slot.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  let identity = sessionStorage.getItem("giliran-identity");
  let verification = null;

  function show(el, on) { el.hidden = !on; }
  function fail(message) { const m = $("message"); m.textContent = message; show(m, true); m.focus(); }
  function clear() { show($("message"), false); }

  async function api(method, url, body) {
    const headers = { "Content-Type": "application/json" };
    if (identity) headers["X-Identity"] = identity;
    const resp = await fetch(url, { method, headers, body: body ? JSON.stringify(body) : undefined });
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) {
      if (resp.status === 401) { identity = null; sessionStorage.removeItem("giliran-identity"); ready(); }
      throw new Error((data.error && data.error.message) || "Terjadi kesalahan. Coba lagi.");
    }
    return data;
  }

  function ready() {
    show($("phone-form"), !identity && !verification);
    show($("code-form"), !identity && !!verification);
    show($("phone-ok"), !!identity);
    show($("step-service"), !!identity);
    if (identity) loadSlots();
  }

  function result(title, text, link, label) {
    $("result-title").textContent = title;
    $("result-text").textContent = text;
    $("result-link").href = link;
    $("result-link").textContent = label;
    show($("result"), true);
    $("result").scrollIntoView();
  }

  let asked = 0; // only the latest request's slots are shown (a date and a service changed at once)
  async function loadSlots() {
    const mine = ++asked;
    const option = $("service").selectedOptions[0];
    const mode = option.dataset.mode;
    show($("book-later"), mode === "days_ahead");
    const box = $("slots");
    box.textContent = "";
    if (mode !== "days_ahead" || !$("date").value) return;
    try {
      const data = await api("GET", `/api/services/${option.value}/slots?date=${$("date").value}`);
      if (mine !== asked) return;
      box.textContent = "";
      if (data.closed) { box.textContent = data.closed; return; }
      const open = data.slots.filter((s) => s.left > 0);
      if (!open.length) { box.textContent = "Tidak ada jam tersisa pada tanggal ini."; return; }
      for (const slot of data.slots) {
        const b = document.createElement("button");
        b.type = "button"; b.className = "button slot"; b.setAttribute("role", "listitem");
        b.textContent = `${slot.time} (sisa ${slot.left})`;
        b.disabled = slot.left === 0;
        b.addEventListener("click", () => book(option.value, data.date, slot.time));
        box.appendChild(b);
      }
    } catch (e) { if (mine === asked) box.textContent = e.message; }
  }

  async function book(service, date, time) {
    clear();
    try {
      const b = await api("POST", "/api/bookings", { service, date, time });
      result(`Booking ${b.code}`, `${b.service_name}, ${b.day_text} pukul ${b.time}. Simpan kode ini; ` +
             "ketik di kios saat tiba.", `/booking/${b.code}`, "Lihat booking dan kode QR");
      loadSlots();
    } catch (e) { fail(e.message); }
  }

  $("phone-form").addEventListener("submit", async (ev) => {
    ev.preventDefault(); clear();
    try {
      const data = await api("POST", "/api/verify", { phone: $("phone").value });
      verification = data.verification;
      ready(); $("code").focus();
    } catch (e) { fail(e.message); }
  });
  $("code-form").addEventListener("submit", async (ev) => {
    ev.preventDefault(); clear();
    try {
      const data = await api("POST", `/api/verify/${verification}`, { code: $("code").value });
      identity = data.identity; verification = null;
      sessionStorage.setItem("giliran-identity", identity);
      ready();
    } catch (e) { fail(e.message); }
  });
  $("take-today").addEventListener("click", async () => {
    clear();
    try {
      const t = await api("POST", "/api/remote-tickets", { service: $("service").value });
      result(`Nomor ${t.number}`, `${t.service_name}: ${t.ahead} orang di depan Anda. Anda akan diberi tahu ` +
             "lewat SMS saat giliran mendekat.", t.status_url, "Lihat giliran");
    } catch (e) { fail(e.message); }
  });
  $("service").addEventListener("change", loadSlots);
  $("date").addEventListener("change", loadSlots);
  const today = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  $("date").value = `${today.getFullYear()}-${pad(today.getMonth() + 1)}-${pad(today.getDate() + 0)}`;
  ready();
})();
