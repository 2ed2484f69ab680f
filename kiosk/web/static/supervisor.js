// Supervisor view: every counter live, refreshed on each public event.
(() => {
  "use strict";
  const body = document.querySelector("#board tbody");
  if (!body) return;
  const STATE = { called: "dipanggil", serving: "melayani" };
  const slaBody = document.querySelector("#sla tbody");
  const state = { refreshes: 0, counters: [], sla: [], slaRefreshes: 0 };
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

  const minutes = (s) => `${Math.floor(s / 60)} mnt${s % 60 ? ` ${s % 60} dtk` : ""}`;

  function renderSla() {
    if (!slaBody) return;
    slaBody.replaceChildren();
    if (!state.sla.length) {
      const tr = document.createElement("tr");
      const td = cell("Tidak ada yang menunggu.");
      td.colSpan = 5;
      tr.append(td);
      slaBody.append(tr);
      return;
    }
    for (const s of state.sla) {
      const tr = document.createElement("tr");
      tr.dataset.service = s.service;
      tr.className = `sla-${s.level}`;
      tr.append(cell(`${s.name} (${s.service})`), cell(String(s.waiting)), cell(minutes(s.longest_wait_s)),
                cell(minutes(s.target_s)), cell(s.level_label));
      slaBody.append(tr);
    }
  }

  async function refreshSla() {
    const response = await fetch("/api/reports/sla", { credentials: "same-origin" });
    if (response.ok) { state.sla = await response.json(); state.slaRefreshes += 1; renderSla(); }
  }

  async function refresh() {
    const response = await fetch("/api/counters", { credentials: "same-origin" });
    if (response.status === 401) { window.location.href = "/staff/login"; return; }
    if (response.ok) { state.counters = await response.json(); state.refreshes += 1; render(); }
    await refreshSla();
  }

  let pending = null;
  const soon = () => { clearTimeout(pending); pending = setTimeout(refresh, 200); };
  const source = new EventSource("/api/events");
  for (const t of ["snapshot", "ticket.called", "queue.changed", "counter.changed"]) source.addEventListener(t, soon);
  setInterval(render, 30000);
  setInterval(refreshSla, 15000);  // waits grow with no event at all
  refresh();
})();
