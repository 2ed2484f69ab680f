// The satisfaction survey form: on the ticket page (by the ticket's token) and on the counter tablet
// (/survei?counter=ID: shows only the ticket that counter has just served, then thanks, then idle).
(() => {
  "use strict";
  const form = document.getElementById("survey-form");
  if (!form) return;
  const $ = (id) => document.getElementById(id);
  const tablet = $("tablet");
  const ticket = $("ticket");
  const CODES = ["U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8", "U9"];
  const OFFLINE = "Tidak dapat terhubung ke server. Periksa sinyal, lalu coba lagi.";
  const state = { number: null, mode: "idle", idleAt: 0, polls: 0, sent: 0 };
  window.giliranSurvey = state;
  const IDLE_AFTER_MS = 90000;
  const THANKS_MS = 10000;

  function fail(text) { $("survey-error").textContent = text; $("survey-error").hidden = !text; }

  form.addEventListener("change", (event) => {
    state.idleAt = Date.now() + IDLE_AFTER_MS;
    const box = event.target.closest("fieldset.question");
    if (!box || event.target.type !== "radio") return;
    box.classList.add("done");
    const next = form.querySelector("fieldset.question:not(.done)");
    if (next) next.scrollIntoView({ behavior: "smooth", block: "center" });
    else $("survey-send").scrollIntoView({ behavior: "smooth", block: "center" });
  });

  function collect() {
    const answers = {};
    const missing = [];
    CODES.forEach((code, i) => {
      const picked = form.querySelector(`input[name="${code}"]:checked`);
      if (picked) answers[code] = Number(picked.value); else missing.push(i + 1);
    });
    const value = (name) => (form.elements[name] && form.elements[name].value) || "";
    const gender = form.querySelector("input[name=gender]:checked");
    const respondent = { gender: gender ? gender.value : null, age: value("age") ? Number(value("age")) : null,
                         education: value("education") || null, occupation: value("occupation") || null };
    return { answers, missing, respondent, comment: value("comment").trim() || null };
  }

  async function post(body) {
    let response;
    try {
      response = await fetch("/api/surveys", { method: "POST", headers: { "Content-Type": "application/json" },
                                                body: JSON.stringify(body) });
    } catch (err) { throw new Error(OFFLINE); }
    let data = null;
    try { data = await response.json(); } catch (err) { data = null; }
    if (!response.ok) {
      const error = new Error((data && data.error && data.error.message) || "Terjadi kesalahan. Coba lagi.");
      error.code = data && data.error && data.error.code;
      throw error;
    }
    return data;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { answers, missing, respondent, comment } = collect();
    if (missing.length) {
      fail(`Pertanyaan ${missing.join(", ")} belum dijawab.`);
      $(`q-U${missing[0]}`).scrollIntoView({ behavior: "smooth", block: "center" });
      return;
    }
    fail("");
    $("survey-send").disabled = true;
    const body = { answers, respondent, comment };
    if (tablet) Object.assign(body, { counter: tablet.dataset.counter, number: state.number });
    else body.token = ticket.dataset.token;
    try {
      await post(body);
      state.sent += 1;
      thank();
    } catch (err) {
      if (err.code === "survey_answered" || err.code === "survey_closed") { fail(""); thank(err.message); }
      else fail(err.message);
    } finally { $("survey-send").disabled = false; }
  });

  function thank(message) {
    if (!tablet) {
      $("survei").hidden = true;
      $("survey-thanks").hidden = false;
      if (message) $("survey-thanks-text").textContent = message;
      $("survey-thanks").focus();
      return;
    }
    show("thanks");
    setTimeout(() => { if (state.mode === "thanks") show("idle"); }, THANKS_MS);
  }

  // --- the counter tablet -----------------------------------------------------------------------
  function show(mode) {
    state.mode = mode;
    for (const id of ["idle", "thanks", "asking"]) $(id).hidden = id !== mode;
    if (mode !== "asking") state.number = null;
  }

  function ask(survey) {
    form.reset();
    for (const box of form.querySelectorAll("fieldset.question")) box.classList.remove("done");
    fail("");
    state.number = survey.number;
    $("tablet-number").textContent = survey.number;
    $("tablet-service").textContent = survey.service_name;
    state.idleAt = Date.now() + IDLE_AFTER_MS;
    show("asking");
    window.scrollTo(0, 0);
  }

  async function poll() {
    state.polls += 1;
    try {
      const response = await fetch(`/api/surveys/counter/${encodeURIComponent(tablet.dataset.counter)}`,
                                   { cache: "no-store" });
      const data = await response.json();
      const survey = data.survey;
      if (state.mode === "asking") {
        // Another citizen's visit ended, or the time ran out: never keep a survey that is not current.
        if (!survey || survey.number !== state.number || Date.now() > state.idleAt) show("idle");
      } else if (state.mode === "idle" && survey && survey.number !== state.lastShown) {
        state.lastShown = survey.number;
        ask(survey);
      }
    } catch (err) { /* the next poll tries again */ }
  }

  if (tablet) {
    show("idle");
    poll();
    setInterval(poll, 3000);
  }
})();
