// Supervisor view: every counter live, refreshed on each public event.
(() => {
  "use strict";
  const body = document.querySelector("#board tbody");
  if (!body) return;
  const STATE = { called: "dipanggil", serving: "melayani" };
  const state = { refreshes: 0, counters: [] };
  window.giliranSupervisor = state;

  function since(iso) {
    if (!iso) return "";
    const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    return `${Math.floor(s / 60)} mnt`;
  }

  function cell(text) { const td = document.createElement("td"); td.textContent = text; return td; }

  function render() {
    body.replaceChildren();
    for (const c of state.counters) {
      const tr = document.createElement("tr");
      tr.dataset.counter = c.id;
      if (c.paused) tr.className = "paused";
      else if (c.current && c.current.state === "serving") tr.className = "serving";
      const status = c.paused ? "istirahat" : c.current ? STATE[c.current.state] || c.current.state : "kosong";
      tr.append(cell(c.name), cell(status), cell(c.current ? c.current.number : "—"),
                cell(c.current ? since(c.current.since) : ""), cell(String(c.waiting)), cell(String(c.served_today)),
                cell(c.mean_service_s ? `${Math.round(c.mean_service_s / 60)} mnt` : "—"));
      body.append(tr);
    }
  }

  async function refresh() {
    const response = await fetch("/api/counters", { credentials: "same-origin" });
    if (response.status === 401) { window.location.href = "/staff/login"; return; }
    if (response.ok) { state.counters = await response.json(); state.refreshes += 1; render(); }
  }

  let pending = null;
  const soon = () => { clearTimeout(pending); pending = setTimeout(refresh, 200); };
  const source = new EventSource("/api/events");
  for (const t of ["snapshot", "ticket.called", "queue.changed", "counter.changed"]) source.addEventListener(t, soon);
  setInterval(render, 30000);
  refresh();
})();
