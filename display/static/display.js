// Giliran hall display: live calls over server-sent events, a chime and an Indonesian call-out.
// No framework and no external asset; every text from the server goes in with textContent.
(() => {
  "use strict";
  const body = document.body;
  const zone = body.dataset.zone;
  const soundOn = body.dataset.sound === "on";
  const timeZone = body.dataset.timezone || "Asia/Jakarta";
  const staleAfterMs = Number(body.dataset.staleAfter || 30) * 1000;
  const recentMax = Number(body.dataset.recent || 8);
  const $ = (id) => document.getElementById(id);
  let places = JSON.parse($("display-data").textContent); // where counters and services are (zone tags)

  // What tests and operators can look at in the console.
  const state = { lastEventId: null, services: new Map(), recent: [], spoken: [], connected: false, now: null };
  window.giliranDisplay = state;

  // --- clock --------------------------------------------------------------------------
  const timeFmt = new Intl.DateTimeFormat("id-ID", { timeZone, hour: "2-digit", minute: "2-digit", hour12: false });
  const dateFmt = new Intl.DateTimeFormat("id-ID", { timeZone, weekday: "long", day: "numeric", month: "long", year: "numeric" });
  let lastSeen = Date.now();

  function tick() {
    const now = new Date();
    $("time").textContent = timeFmt.format(now).replace(":", ".");
    $("date").textContent = dateFmt.format(now);
    $("stale").hidden = Date.now() - lastSeen < staleAfterMs;
  }

  function seen() {
    lastSeen = Date.now();
    $("stale").hidden = true;
  }

  // --- rendering ----------------------------------------------------------------------------
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function waitText(seconds) {
    if (seconds === null || seconds === undefined) return "belum diperkirakan";  // no counter works it now
    const minutes = Math.round(seconds / 60);
    if (minutes < 1) return "< 1 mnt";
    if (minutes < 60) return `± ${minutes} mnt`;
    const hours = Math.floor(minutes / 60);
    return `± ${hours} j ${minutes % 60} mnt`;
  }

  function zoneOrder(code) {
    const tag = places.services[code];
    const i = tag ? places.zones.indexOf(tag) : -1;
    return i < 0 ? places.zones.length : i;
  }

  // The services, a page at a time, zone by zone: a page shows one part of the hall, named in the
  // title; a big zone takes several pages. The pages turn every 8 seconds.
  let servicePage = 0;
  function servicePages() {
    const list = $("services");
    const cols = getComputedStyle(list).gridTemplateColumns.split(" ").length || 1;
    const rows = Number(getComputedStyle(list).getPropertyValue("--rows")) || 3;
    const groups = new Map();
    const sorted = [...state.services.values()].map((s, i) => [zoneOrder(s.code), i, s])
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((x) => x[2]);
    for (const s of sorted) {
      const tag = places.services[s.code] || "";
      if (!groups.has(tag)) groups.set(tag, []);
      groups.get(tag).push(s);
    }
    const pages = [];
    for (const [tag, services] of groups) {
      for (let i = 0; i < services.length; i += cols * rows) pages.push({ tag, services: services.slice(i, i + cols * rows) });
    }
    return pages;
  }

  function renderServices() {
    const list = $("services");
    const pages = servicePages();
    servicePage = pages.length ? servicePage % pages.length : 0;
    const page = pages[servicePage] || { tag: "", services: [] };
    list.replaceChildren();
    for (const s of page.services) {
      const li = el("li");
      li.dataset.service = s.code;
      li.append(el("span", "code", s.code), el("span", "name", s.name));
      const wait = el("span", "wait");
      wait.append(el("b", "", String(s.waiting)), document.createTextNode(` menunggu · ${waitText(s.estimated_wait_s)}`));
      li.append(wait);
      list.append(li);
    }
    $("services-zone").textContent = page.tag;
    $("services-zone").hidden = !page.tag;
    $("services-page").textContent = pages.length > 1 ? `${servicePage + 1}/${pages.length}` : "";
  }

  function rotateServices() {
    servicePage += 1;
    renderServices();
  }

  function renderRecent() {
    const list = $("recent");
    list.replaceChildren();
    for (const call of state.recent.slice(0, recentMax)) {
      const li = el("li", call.recall ? "recall" : "");
      const tag = places.counters[call.counter];
      li.append(el("span", "num", call.number), el("span", "to", call.counter_name || call.counter),
                tag ? el("span", "tag", tag) : el("span"));
      list.append(li);
    }
    // Only whole rows: a row the panel cannot hold entirely is left out, never cut in half.
    const bottom = list.getBoundingClientRect().bottom;
    for (const li of [...list.children].reverse()) {
      if (li.getBoundingClientRect().bottom <= bottom + 0.5) break;
      li.remove();
    }
  }

  // A number is listed once: calling it again moves it to the top, marked as a repeat.
  function remember(call) {
    state.recent = [call, ...state.recent.filter((c) => c.number !== call.number)].slice(0, 20);
  }

  function fitNow() {
    for (const id of ["now-number", "now-counter", "now-service"]) window.giliranFit($(id), 0.35);
  }

  function showNow(call, flash) {
    state.now = call;
    document.querySelector(".now").classList.remove("idle");
    $("now-number").textContent = call.number;
    $("now-counter").textContent = call.counter_name || call.counter;
    $("now-zone").textContent = places.counters[call.counter] || "";
    $("now-service").textContent = call.service_name || "";
    fitNow();
    if (flash) {
      const panel = document.querySelector(".now");
      panel.classList.remove("flash");
      void panel.offsetWidth; // restart the animation for each new call
      panel.classList.add("flash");
    }
  }

  // --- sound ------------------------------------------------------------------------------------
  const announcements = [];
  let speaking = false;
  let blocked = false;

  function play(src) {
    return new Promise((resolve, reject) => {
      const audio = new Audio(src);
      const guard = setTimeout(resolve, 20000);
      audio.onended = () => { clearTimeout(guard); resolve(); };
      audio.onerror = () => { clearTimeout(guard); reject(new Error(`cannot play ${src}`)); };
      audio.play().catch((err) => { clearTimeout(guard); reject(err); });
    });
  }

  function speak(text) {
    return new Promise((resolve) => {
      if (!text || !("speechSynthesis" in window)) { resolve(); return; }
      const utterance = new SpeechSynthesisUtterance(text);
      utterance.lang = "id-ID";
      const voice = speechSynthesis.getVoices().find((v) => (v.lang || "").toLowerCase().startsWith("id"));
      if (voice) utterance.voice = voice;
      const guard = setTimeout(resolve, 15000);
      utterance.onend = utterance.onerror = () => { clearTimeout(guard); resolve(); };
      speechSynthesis.speak(utterance);
    });
  }

  async function pump() {
    if (speaking || blocked) return;
    speaking = true;
    while (announcements.length) {
      const call = announcements[0];
      try {
        await play("/display-audio/chime.wav");
        if (call.audio) {
          try { await play(call.audio); } catch (err) {
            if (err && err.name === "NotAllowedError") throw err;
            await speak(call.sentence);
          }
        } else {
          await speak(call.sentence);
        }
        state.spoken.push(call.sentence);
        announcements.shift();
      } catch (err) {
        if (err && err.name === "NotAllowedError") {
          // The browser wants a tap before it plays sound: keep the calls and ask once.
          blocked = true;
          $("enable-sound").hidden = false;
          break;
        }
        state.spoken.push(call.sentence); // shown, chime failed: never let one bad sound stop the queue
        announcements.shift();
      }
    }
    speaking = false;
  }

  function announce(call) {
    if (!soundOn) return;
    announcements.push(call); // calls queue and never overlap; a recall is announced again
    pump();
  }

  $("enable-sound").addEventListener("click", () => {
    blocked = false;
    $("enable-sound").hidden = true;
    pump();
  });

  // --- live events --------------------------------------------------------------------------------
  function parse(event) {
    if (event.lastEventId) state.lastEventId = event.lastEventId;
    seen();
    return JSON.parse(event.data);
  }

  let source = null;

  function connect() {
    const params = new URLSearchParams();
    if (zone) params.set("zone", zone);
    if (state.lastEventId) params.set("last_event_id", state.lastEventId);
    source = new EventSource(`/display-events${params.toString() ? "?" + params : ""}`);
    source.onopen = () => { state.connected = true; seen(); };
    source.onerror = () => {
      state.connected = false;
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (e.g. the server answered an error while restarting): start again.
        setTimeout(connect, 3000);
      }
    };
    source.addEventListener("snapshot", (e) => {
      const snap = parse(e);
      if (snap.places) places = snap.places;
      state.services = new Map(snap.services.map((s) => [s.code, s]));
      state.recent = [];
      for (const call of snap.recent_calls.slice().reverse()) remember(call);
      $("ticker-text").textContent = snap.ticker || "";
      board.classList.toggle("with-media", (snap.playlist || []).length > 0);
      window.GiliranMedia.play($("media"), snap.playlist || [], snap.image_seconds || 12);
      renderServices();
      if (state.recent.length) showNow(state.recent[0], false);
      renderRecent();
    });
    source.addEventListener("ticket.called", (e) => {
      const call = parse(e);
      remember(call);
      showNow(call, true);
      renderRecent();
      announce(call);
    });
    source.addEventListener("queue.changed", (e) => {
      const change = parse(e);
      const service = state.services.get(change.service);
      if (service) {
        service.waiting = change.waiting;
        service.estimated_wait_s = change.estimated_wait_s;
        renderServices();
      }
    });
    source.addEventListener("display.ticker", (e) => { $("ticker-text").textContent = parse(e).text; });
    source.addEventListener("heartbeat", (e) => parse(e));
    source.addEventListener("hall.changed", () => {
      // An admin changed services, counters or zones: start over with a fresh snapshot.
      source.close();
      state.lastEventId = null;
      connect();
    });
  }

  const board = $("board");
  window.addEventListener("resize", () => { if (state.now) fitNow(); renderRecent(); });
  tick();
  setInterval(tick, 1000);
  setInterval(rotateServices, 8000);
  connect();
})();
