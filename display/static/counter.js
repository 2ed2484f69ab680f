// The counter-top screen: follows the public event stream and shows this counter's number.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const counterId = document.body.dataset.counter;
  const staleAfterMs = Number(document.body.dataset.staleAfter || 30) * 1000;
  const state = { now: JSON.parse($("counter-now").textContent), refreshes: 0, connected: false };
  window.giliranCounter = state;
  const STATES = { called: "Silakan ke loket ini", serving: "Sedang dilayani" };
  let lastSeen = Date.now();

  function render(flash) {
    const now = state.now;
    document.body.classList.toggle("paused", now.paused);
    $("ct-name").textContent = now.name;
    $("ct-number").textContent = now.paused ? "—" : (now.number || "—");
    $("ct-state").textContent = now.paused ? "Loket istirahat" : (STATES[now.state] || "Menunggu panggilan berikutnya");
    $("ct-service").textContent = (!now.paused && now.service_name) || "\u00a0";
    window.giliranFit($("ct-name"), 0.4);
    if (flash) {
      const panel = document.querySelector(".ct-panel");
      panel.classList.remove("flash");
      void panel.offsetWidth;
      panel.classList.add("flash");
    }
  }

  async function refresh(flash) {
    try {
      const response = await fetch(`/api/display/counters/${encodeURIComponent(counterId)}`);
      if (!response.ok) return;
      state.now = await response.json();
      state.refreshes += 1;
      render(flash);
    } catch (err) { /* the stream's reconnection brings the next refresh */ }
  }

  function seen() { lastSeen = Date.now(); $("stale").hidden = true; }
  const source = new EventSource("/api/events");
  source.onopen = () => { state.connected = true; seen(); refresh(false); };
  source.addEventListener("heartbeat", seen);
  source.addEventListener("ticket.called", (e) => {
    seen();
    if (JSON.parse(e.data).counter === counterId) refresh(true);
  });
  source.addEventListener("counter.changed", (e) => {
    seen();
    if (JSON.parse(e.data).counter === counterId) refresh(false);
  });
  source.addEventListener("queue.changed", seen);
  source.addEventListener("hall.changed", () => window.location.reload());
  setInterval(() => { $("stale").hidden = Date.now() - lastSeen < staleAfterMs; }, 1000);
  setInterval(() => refresh(false), 30000);
  window.addEventListener("resize", () => render(false));
  render(false);
})();
