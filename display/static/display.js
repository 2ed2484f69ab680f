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

  // What tests and operators can look at in the console.
  const state = { lastEventId: null, services: new Map(), recent: [], spoken: [], connected: false };
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

  function renderServices() {
    const list = $("services");
    const scroll = list.scrollTop;
    list.replaceChildren();
    for (const s of state.services.values()) {
      const li = el("li");
      li.dataset.service = s.code;
      li.append(el("span", "code", s.code), el("span", "name", s.name));
      const wait = el("span", "wait");
      wait.append(el("b", "", String(s.waiting)), document.createTextNode(` menunggu · ${waitText(s.estimated_wait_s)}`));
      li.append(wait);
      list.append(li);
    }
    list.scrollTop = scroll;
  }

  function renderRecent() {
    const list = $("recent");
    list.replaceChildren();
    for (const call of state.recent.slice(0, recentMax)) {
      const li = el("li", call.recall ? "recall" : "");
      li.append(el("span", "num", call.number), el("span", "to", call.counter_name || call.counter));
      list.append(li);
    }
  }

  function showNow(call, flash) {
    $("now-number").textContent = call.number;
    $("now-counter").textContent = call.counter_name || call.counter;
    $("now-service").textContent = call.service_name || "";
    if (flash) {
      const panel = document.querySelector(".now");
      panel.classList.remove("flash");
      void panel.offsetWidth; // restart the animation for each new call
      panel.classList.add("flash");
    }
  }

  // A big hall has more services than fit: show them a page at a time.
  let servicePage = 0;
  function rotateServices() {
    const list = $("services");
    const gap = parseFloat(getComputedStyle(list).rowGap) || 0;
    const step = list.clientHeight + gap;
    const pages = step > 0 ? Math.max(1, Math.ceil((list.scrollHeight + gap) / step)) : 1;
    servicePage = (servicePage + 1) % pages;
    list.scrollTop = servicePage * step;
    $("services-page").textContent = pages > 1 ? `${servicePage + 1}/${pages}` : "";
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
      state.services = new Map(snap.services.map((s) => [s.code, s]));
      state.recent = snap.recent_calls.slice();
      $("ticker-text").textContent = snap.ticker || "";
      renderServices();
      renderRecent();
      if (state.recent.length) showNow(state.recent[0], false);
    });
    source.addEventListener("ticket.called", (e) => {
      const call = parse(e);
      state.recent.unshift(call);
      state.recent.length = Math.min(state.recent.length, 20);
      renderRecent();
      showNow(call, true);
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

  tick();
  setInterval(tick, 1000);
  setInterval(rotateServices, 8000);
  connect();
})();
