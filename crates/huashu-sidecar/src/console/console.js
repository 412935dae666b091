// 话术 agent-assist console: talks to /v1/stream (docs/protocol.md). No build step, no dependencies.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  let ws = null;
  let nextRef = 1;
  const turns = new Map(); // ref -> {el, text, role, findings: []}
  let draft = { ref: null, text: "", findings: [], rewrite: null, withheld: null };
  let draftTimer = null;
  const state = { findings: 0, hints: 0, scores: 0, errors: 0, connected: false };
  window.huashuConsole = state;

  function esc(s) {
    return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  // Findings carry character (code point) offsets into the original text.
  function marked(text, findings) {
    const chars = Array.from(text);
    const sorted = findings.slice().sort((a, b) => a.start - b.start);
    let out = "", at = 0;
    for (const f of sorted) {
      if (f.start < at) continue;
      out += esc(chars.slice(at, f.start).join(""));
      out += '<mark class="' + esc(f.severity) + '" title="' + esc(f.rule + ": " + f.message) + '">' +
        esc(chars.slice(f.start, f.end).join("")) + "</mark>";
      at = f.end;
    }
    return out + esc(chars.slice(at).join(""));
  }
  function findingHtml(f) {
    const s = f.suggestions && f.suggestions.length ? ' <span class="sugg">→ ' + esc(f.suggestions[0]) + "</span>" : "";
    return '<div class="finding"><span class="rule">' + esc(f.rule) + "</span>" + esc(f.message) + s + "</div>";
  }
  function setStatus(s) { $("status").textContent = s; }
  function error(msg) {
    state.errors++;
    const li = document.createElement("li");
    li.textContent = msg;
    $("errors").prepend(li);
  }
  function hint(kind, text, extra) {
    state.hints++;
    const li = document.createElement("li");
    li.className = kind;
    li.innerHTML = '<span class="kind">' + esc(kind) + "</span>" + (extra ? "<b>" + esc(extra) + "</b> " : "") + esc(text);
    $("hints").prepend(li);
  }
  function send(msg) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }
  function renderTurn(t) {
    t.el.innerHTML = '<div class="who">' + esc(t.role) + "</div><div>" + marked(t.text, t.findings) + "</div>" +
      t.findings.map(findingHtml).join("");
  }
  function renderDraft() {
    const box = $("draft");
    if (!draft.text) { box.hidden = true; return; }
    box.hidden = false;
    $("draft-marked").innerHTML = marked(draft.text, draft.findings);
    $("draft-findings").innerHTML = draft.findings.length ? draft.findings.map(findingHtml).join("") : '<div class="label">no findings</div>';
    // A withheld rewrite is never offered: "use it" would send a violation.
    $("draft-rewrite").textContent = draft.withheld ? "none (" + draft.withheld + ")" : (draft.rewrite || draft.text);
    $("use-rewrite").disabled = !!draft.withheld || !draft.rewrite;
  }
  function renderScore(m) {
    state.scores++;
    const st = m.structure || {};
    $("structure-score").textContent = st.score;
    for (const li of document.querySelectorAll("#structure-steps li")) {
      li.classList.toggle("ok", !!st[li.dataset.k]);
    }
    $("overall").textContent = m.score + "/100";
    $("passed").textContent = m.fatal ? "fatal" : (m.passed ? "passed" : "not passed");
    if (m.ruleset) $("ruleset").textContent = m.ruleset;
  }
  function onMessage(ev) {
    let m;
    try { m = JSON.parse(ev.data); } catch (e) { error("unreadable message"); return; }
    switch (m.type) {
      case "session.started":
        setStatus("live: " + m.conversation_id);
        $("ruleset").textContent = m.ruleset;
        $("send").disabled = false; $("end").disabled = false; $("start").disabled = true;
        break;
      case "finding":
        state.findings++;
        if (m.source === "draft") {
          if (m.ref === draft.ref) { draft.findings.push(m); renderDraft(); }
        } else if (turns.has(m.ref) && m.final) {
          const t = turns.get(m.ref); t.findings.push(m); renderTurn(t);
        }
        break;
      case "hint":
        if (m.hint === "rewrite" && m.source === "draft") {
          if (m.ref === draft.ref) { draft.rewrite = m.text; renderDraft(); }
        } else if (m.hint === "rewrite_withheld" && m.source === "draft") {
          if (m.ref === draft.ref) { draft.withheld = m.text; renderDraft(); }
        } else if (m.hint === "coaching") {
          hint("coaching", m.text, m.check);
        } else if (m.hint === "suggestion" && m.final) {
          hint("suggestion", m.text, m.rule);
        } else if (m.hint === "rewrite" && m.final) {
          hint("rewrite", m.text);
        }
        break;
      case "ack":
        if (m.source === "draft") { if (m.ref === draft.ref) renderDraft(); }
        else if (m.final) send({ type: "score" });
        break;
      case "score":
        renderScore(m);
        if (m.final) { setStatus("ended"); $("send").disabled = true; $("end").disabled = true; $("start").disabled = false; }
        break;
      case "ruleset":
        $("ruleset").textContent = m.ruleset + " (was " + m.previous + ")";
        break;
      case "error":
        error(m.code + ": " + m.message);
        break;
    }
  }
  async function start() {
    const token = $("token").value.trim();
    let url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/v1/stream";
    try {
      const r = await fetch("/v1/tickets", { method: "POST", headers: token ? { Authorization: "Bearer " + token } : {} });
      if (!r.ok) { error("ticket: HTTP " + r.status); return; }
      const t = await r.json();
      url += "?ticket=" + encodeURIComponent(t.ticket);
    } catch (e) { error("ticket: " + e); return; }
    setStatus("connecting…");
    ws = new WebSocket(url);
    ws.onopen = () => {
      state.connected = true;
      const id = $("convid").value.trim() || "console-" + Date.now();
      $("convid").value = id;
      send({ type: "session.start", conversation_id: id });
    };
    ws.onmessage = onMessage;
    ws.onclose = (e) => {
      state.connected = false;
      setStatus("disconnected" + (e.code && e.code !== 1000 ? " (" + e.code + " " + e.reason + ")" : ""));
      $("send").disabled = true; $("end").disabled = true; $("start").disabled = false;
    };
  }
  function sayLine(role, text) {
    text = text.trim();
    if (!text) return;
    const m = text.match(/^(客户|顾客|customer|客服|坐席|agent)\s*[:：]\s*/i);
    if (m) {
      role = /^(客户|顾客|customer)$/i.test(m[1]) ? "customer" : "agent";
      text = text.slice(m[0].length);
    }
    const ref = nextRef++;
    const li = document.createElement("li");
    li.className = "turn " + role;
    $("turns").appendChild(li);
    const t = { el: li, text, role, findings: [] };
    turns.set(ref, t);
    renderTurn(t);
    li.scrollIntoView({ block: "nearest" });
    send({ type: "utterance", role, text, final: true, ref });
  }
  function submit(e) {
    if (e) e.preventDefault();
    const role = $("role").value;
    for (const line of $("text").value.split(/\r?\n/)) sayLine(role, line);
    $("text").value = "";
    draft = { ref: null, text: "", findings: [], rewrite: null, withheld: null };
    renderDraft();
  }
  function onType() {
    clearTimeout(draftTimer);
    draftTimer = setTimeout(() => {
      const text = $("text").value;
      if ($("role").value !== "agent" || !text.trim() || text.includes("\n")) { draft.text = ""; renderDraft(); return; }
      draft = { ref: "d" + nextRef++, text, findings: [], rewrite: null, withheld: null };
      send({ type: "draft", text, ref: draft.ref });
    }, 150);
  }
  $("start").addEventListener("click", start);
  $("end").addEventListener("click", () => send({ type: "session.end" }));
  $("say").addEventListener("submit", submit);
  $("text").addEventListener("input", onType);
  $("role").addEventListener("change", onType);
  $("text").addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey) submit(e); });
  $("use-rewrite").addEventListener("click", () => { $("text").value = draft.rewrite || draft.text; onType(); });
})();

// Practice tab: role-play drills through /v1/drills (docs/protocol.md), the same feedback as `huashu drill`.
(function () {
  const $ = (id) => document.getElementById(id);
  const practice = { drills: 0, replies: 0, done: false, passed: null, score: null, errors: 0 };
  window.huashuPractice = practice;
  let attempt = null; // {id, drill}
  // The label comes with the feedback (huashu::drill::Words::label, as `huashu drill` prints it); a disclosure's id beside it.
  const label = (p) => p.label + (p.name.startsWith("disclosure:") ? " " + p.name.slice(11) : "");
  function esc(s) {
    return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  async function api(method, path, body) {
    const token = $("token").value.trim();
    const headers = { "Content-Type": "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    const r = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined });
    const v = await r.json();
    if (!r.ok) throw new Error((v.error && v.error.message) || r.statusText);
    return v;
  }
  function fail(e) {
    practice.errors++;
    const li = document.createElement("li");
    li.className = "turn";
    li.textContent = "error: " + e.message;
    $("practice-turns").append(li);
  }
  function show(tab) {
    $("assist-view").hidden = tab !== "assist";
    $("practice-view").hidden = tab !== "practice";
    $("tab-assist").classList.toggle("active", tab === "assist");
    $("tab-practice").classList.toggle("active", tab === "practice");
    if (tab === "practice" && !practice.drills) loadDrills();
  }
  async function loadDrills() {
    try {
      const list = await api("GET", "/v1/drills");
      $("drill-select").innerHTML = list.map((d) =>
        '<option value="' + esc(d.id) + '">' + esc(d.name) + " · " + esc(d.id) + "</option>").join("");
      practice.drills = list.length;
    } catch (e) { fail(e); }
  }
  function customer(text) {
    const li = document.createElement("li");
    li.className = "turn customer";
    li.innerHTML = '<div class="who">客户 customer</div><div>' + esc(text) + "</div>";
    $("practice-turns").append(li);
  }
  function mark(p) {
    return '<span class="' + (p.present ? "ok" : "no") + '">' + esc(label(p)) + (p.present ? " ✓" : " ✗") +
      (p.matched && p.name !== "order" ? " “" + esc(p.matched) + "”" : "") + "</span>";
  }
  function feedback(fb) {
    const li = document.createElement("li");
    li.className = "turn agent";
    li.innerHTML = '<div class="who">你 trainee</div><div>' + esc(fb.reply) + "</div>";
    $("practice-turns").append(li);
    const box = document.createElement("li");
    box.className = "feedback";
    let h = "<div>" + fb.structure.map(mark).join(" · ") + "</div>";
    if (fb.requirements.length) h += "<div>要求 " + fb.requirements.map(mark).join(" · ") + "</div>";
    for (const f of fb.findings) {
      h += '<div class="finding"><span class="rule">' + esc(f.rule) + "</span>“" + esc(f.matched) + "” " + esc(f.message) +
        (f.suggestion ? ' <span class="sugg">→ ' + esc(f.suggestion) + "</span>" : "") + "</div>";
    }
    if (fb.rewrite !== fb.reply) h += '<div>合规改写：<span class="sugg">' + esc(fb.rewrite) + "</span></div>";
    if (fb.step_score < 100 && fb.model) h += '<div class="model">参考答案：' + esc(fb.model) + "</div>";
    h += '<div class="pts">本轮 ' + fb.step_score + " 分 · 累计 " + fb.running_score + " 分</div>";
    box.innerHTML = h;
    $("practice-turns").append(box);
    $("practice-score").textContent = fb.running_score;
    for (const li2 of $("practice-structure").children) {
      const p = fb.structure.find((x) => x.name === li2.dataset.k);
      li2.className = p && p.present ? "ok" : "no";
    }
  }
  function summary(s) {
    $("practice-summary").hidden = false;
    const v = $("practice-verdict");
    v.textContent = s.score + "/100 " + (s.passed ? "通过 PASS" : "未通过 FAIL");
    v.className = "big " + (s.passed ? "pass" : "fail");
    $("practice-tips").innerHTML = s.tips.map((t) => '<li><span class="kind">' + esc(t.weakness) + "</span>" + esc(t.tip) + "</li>").join("");
    practice.done = true;
    practice.passed = s.passed;
    practice.score = s.score;
    $("practice-text").disabled = true;
    $("practice-send").disabled = true;
  }
  async function start() {
    const id = $("drill-select").value;
    if (!id) return;
    try {
      const a = await api("POST", "/v1/drills/" + encodeURIComponent(id) + "/attempts");
      attempt = { id: a.attempt, drill: a.drill };
      Object.assign(practice, { replies: 0, done: false, passed: null, score: null });
      $("practice-turns").innerHTML = "";
      $("practice-summary").hidden = true;
      $("practice-score").textContent = "–";
      for (const li of $("practice-structure").children) li.className = "";
      $("drill-brief").hidden = false;
      $("drill-title").textContent = a.name;
      $("drill-meta").textContent = a.steps + " 轮 · 及格 " + a.pass_mark + " 分";
      $("drill-scenario").textContent = a.scenario;
      $("drill-persona").textContent = a.persona;
      $("practice-ruleset").textContent = a.ruleset;
      customer(a.customer);
      $("practice-text").disabled = false;
      $("practice-send").disabled = false;
      $("practice-text").focus();
    } catch (e) { fail(e); }
  }
  async function reply(e) {
    if (e) e.preventDefault();
    const text = $("practice-text").value.trim();
    if (!text || !attempt) return;
    $("practice-text").value = "";
    try {
      const r = await api("POST", "/v1/drills/" + encodeURIComponent(attempt.drill) + "/attempts/" +
        encodeURIComponent(attempt.id) + "/replies", { text });
      practice.replies++;
      feedback(r.feedback);
      if (r.feedback.next) customer(r.feedback.next);
      if (r.summary) summary(r.summary);
    } catch (err) { fail(err); }
  }
  $("tab-assist").addEventListener("click", () => show("assist"));
  $("tab-practice").addEventListener("click", () => show("practice"));
  $("drill-start").addEventListener("click", start);
  $("practice-say").addEventListener("submit", reply);
  $("practice-text").addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey) reply(e); });
  if (location.hash === "#practice") show("practice");
})();
