// The calcinosis page: three views over the JSON API of calcinosis.interfaces.web.app.
// Plain JavaScript, charts drawn as SVG here: nothing is fetched from outside this server.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const GROUP_COLOURS = {
  metabolic_congenital: "#8c564b", metabolic_acquired: "#d62728", dystrophic: "#9467bd",
  degenerative: "#2ca02c", metaplastic: "#ff7f0e", neoplastic: "#1f77b4",
};
const KIND_COLOURS = { risk_factor: "#c7d9e8", latent: "#e6dcf2", clinical: "#fde9c9", laboratory: "#d9f0d3",
  imaging: "#f6d5d5", finding: "#f6d5d5", condition: "#dddddd" };
const state = { meta: null, evidence: {}, scenario: "general_population", case: null, generation: 0,
  labels: {}, view: "consult", teachDirty: true, lessons: {} };

// ---------------------------------------------------------------- helpers
const $ = (id) => document.getElementById(id);
function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
function svgEl(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
function pct(p) {
  if (p === null || p === undefined || Number.isNaN(p)) return "n/a";
  if (p >= 0.001) return (100 * p).toFixed(1) + "%";
  if (p <= 0) return "0%";
  if (p < 1e-6) return "<0.0001%";
  return (100 * p).toPrecision(2) + "%";
}
function axisPct(p) { return p <= 0 ? "0%" : Number((100 * p).toPrecision(2)) + "%"; }
function showError(id, message) {
  const node = $(id);
  node.textContent = message || "";
  node.hidden = !message;
}
async function api(path, body) {
  const options = body === undefined ? {} :
    { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const response = await fetch(path, options);
  const type = response.headers.get("content-type") || "";
  if (!response.ok) {
    const data = type.includes("json") ? await response.json() : { error: await response.text() };
    throw new Error(data.error || ("the server answered " + response.status));
  }
  return type.includes("json") ? response.json() : response;
}
function label(id) { return state.labels[id] || id.replace(/_/g, " "); }

// ---------------------------------------------------------------- start
async function start() {
  const meta = await api("/api/meta");
  state.meta = meta;
  for (const c of meta.conditions) state.labels[c.id] = c.label;
  state.labels.other_causes = "Other or idiopathic causes";
  $("disclaimer").textContent = meta.disclaimer;
  $("footer").textContent = `calcinosis ${meta.version}; priors sha256 ${(meta.priors_sha256 || "").slice(0, 12)}`;
  $("draws-note").textContent = `${meta.credible_percent} interval over ${meta.interactive_draws} parameter`;
  for (const s of meta.scenarios) {
    $("scenario").append(el("option", { value: s.id }, s.label));
    $("sweep-scenario").append(el("option", { value: s.id }, s.label));
    const box = el("label");
    const input = el("input", { type: "checkbox", value: s.id });
    if (s.id === "general_adult" || s.id === "dialysis_unit") input.checked = true;
    box.append(input, " " + s.label);
    $("mix-scenarios").append(box);
  }
  for (const c of meta.cases) $("case-select").append(el("option", { value: c.stem }, c.title));
  for (const c of meta.conditions) {
    $("sweep-condition").append(el("option", { value: c.id }, c.label));
    $("sweep-target").append(el("option", { value: c.id }, c.label));
  }
  $("sweep-target").append(el("option", { value: "other_causes" }, "Other or idiopathic causes"));
  $("sweep-scenario").value = "general_adult";
  $("sweep-condition").value = "chronic_kidney_disease";
  $("sweep-target").value = "chronic_kidney_disease";
  for (const name of meta.lessons) $("lesson-select").append(el("option", { value: name }, name));
  buildEvidenceForm(meta.categories);
  wireEvents();
  describeScenario();
  await refresh();
  sweepRange();
}

function buildEvidenceForm(categories) {
  const form = $("evidence-form");
  for (const category of categories) {
    const details = el("details", { id: "category-" + category.id });
    if (category.id !== "conditions") details.open = true;
    details.append(el("summary", {}, category.title));
    for (const f of category.findings) {
      const row = el("label", { class: "finding", id: "row-" + f.id });
      const select = el("select", { "data-finding": f.id, id: "finding-" + f.id });
      select.append(el("option", { value: "" }, "unknown"));
      for (const s of f.states) select.append(el("option", { value: s }, s.replace(/_/g, " ")));
      select.addEventListener("change", () => setFinding(f.id, select.value));
      row.append(el("span", {}, f.label), select);
      details.append(row);
    }
    form.append(details);
  }
}

function wireEvents() {
  for (const tab of document.querySelectorAll("nav button")) {
    tab.addEventListener("click", () => showView(tab.dataset.view));
  }
  $("scenario").addEventListener("change", () => { state.scenario = $("scenario").value; describeScenario(); changed(); });
  $("case-select").addEventListener("change", () => { if ($("case-select").value) loadBundled($("case-select").value); });
  $("case-upload").addEventListener("change", uploadCase);
  $("clear-evidence").addEventListener("click", () => { state.case = null; setEvidence({}); showCase(); });
  $("download-report").addEventListener("click", downloadReport);
  $("lesson-select").addEventListener("change", () => showLesson($("lesson-select").value));
  $("show-mix").addEventListener("click", showCaseMix);
  $("run-sweep").addEventListener("click", runSweep);
  $("sweep-condition").addEventListener("change", sweepRange);
  $("sweep-scenario").addEventListener("change", sweepRange);
}

function showView(view) {
  state.view = view;
  for (const tab of document.querySelectorAll("nav button")) {
    tab.setAttribute("aria-selected", String(tab.dataset.view === view));
  }
  for (const name of ["consult", "teach", "whatif"]) $("view-" + name).hidden = name !== view;
  if (view === "teach") refreshTeaching();
}

function describeScenario() {
  const s = state.meta.scenarios.find((x) => x.id === state.scenario);
  $("scenario").value = state.scenario;
  $("scenario-description").textContent = s ? s.description : "";
}

// ---------------------------------------------------------------- evidence and cases
function setFinding(id, value) {
  if (value) state.evidence[id] = value; else delete state.evidence[id];
  const select = $("finding-" + id);
  if (select && select.value !== (value || "")) select.value = value || "";
  changed();
}

function setEvidence(evidence) {
  state.evidence = { ...evidence };
  delete state.evidence.soft_tissue_calcification;
  for (const select of document.querySelectorAll("select[data-finding]")) {
    select.value = state.evidence[select.dataset.finding] || "";
  }
  changed();
}

function loadCase(c) {
  state.case = c;
  if (c.scenario) { state.scenario = c.scenario; describeScenario(); }
  showError("case-error", "");
  showCase();
  setEvidence(c.evidence);
}

function showCase() {
  const info = $("case-info");
  if (!state.case) { info.hidden = true; $("case-select").value = ""; return; }
  const c = state.case;
  info.textContent = `${c.title}. Source: ${c.source.replace(/\.$/, "")}.` + (c.diagnosis ? ` Reference diagnosis: ${label(c.diagnosis)}.` : "")
    + (c.assumed.length ? ` Assumed (not stated by the source): ${c.assumed.join(", ")}.` : "");
  info.hidden = false;
}

async function loadBundled(stem) {
  try { loadCase(await api("/api/case/" + encodeURIComponent(stem))); }
  catch (error) { showError("case-error", error.message); }
}

async function uploadCase() {
  const file = $("case-upload").files[0];
  if (!file) return;
  $("case-select").value = "";
  if (file.size > state.meta.max_upload_bytes) {
    showError("case-error", `${file.name}: the file is ${file.size.toLocaleString()} bytes; a case file must be under `
      + `${state.meta.max_upload_bytes.toLocaleString()} bytes.`);
    return;
  }
  try {
    const text = await file.text();
    loadCase(await api("/api/upload", { name: file.name, text }));
  } catch (error) {
    showError("case-error", error.message);
  } finally {
    $("case-upload").value = "";
  }
}

// ---------------------------------------------------------------- consultation
function changed() {
  state.teachDirty = true;
  refresh();
  if (state.view === "teach") refreshTeaching();
}

async function refresh() {
  const generation = ++state.generation;
  const body = { scenario: state.scenario, evidence: state.evidence };
  const started = performance.now();
  $("status").textContent = "Updating...";
  try {
    const quick = await api("/api/differential", body);
    if (generation !== state.generation) return;
    showError("consult-error", "");
    renderDifferential(quick.differential, null);
    renderGroups(quick.groups);
    renderOther(quick.other_causes, null, quick.differential.length);
    renderImpact(quick.evidence_impact, quick.leader);
    $("leader").textContent = "leading: " + label(quick.leader);
    $("leader").dataset.id = quick.leader;
    const quickMs = Math.round(performance.now() - started);
    $("status").textContent = `Exact posteriors in ${quickMs} ms; intervals and next tests are being computed...`;
    $("next-tests").classList.add("stale");
    const full = await api("/api/consult", body);
    if (generation !== state.generation) return;
    renderDifferential(full.differential, full.draws);
    renderGroups(full.groups);
    renderOther(full.other_causes, full.other_causes.interval, full.differential.length);
    renderTests(full.next_tests);
    $("next-tests").classList.remove("stale");
    $("status").textContent = `Updated: exact posteriors in ${quickMs} ms, intervals over ${full.draws} parameter draws `
      + `and next tests in ${Math.round(performance.now() - started)} ms. Scenario: ${full.scenario}.`;
    document.body.dataset.ready = String(generation);
  } catch (error) {
    if (generation !== state.generation) return;
    showError("consult-error", error.message);
    $("status").textContent = "The evidence could not be evaluated: see the message below.";
    document.body.dataset.ready = String(generation);
  }
}

function barChart(svg, rows, options) {
  // rows: {id, label, value, low, high, prior, colour}
  svg.replaceChildren();
  const width = 860, labelWidth = 300, barWidth = width - labelWidth - 175, rowHeight = 22;
  svg.setAttribute("viewBox", `0 0 ${width} ${rows.length * rowHeight + 24}`);
  const x = (p) => labelWidth + barWidth * Math.max(0, Math.min(1, p));
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    svg.append(svgEl("line", { x1: x(tick), x2: x(tick), y1: 0, y2: rows.length * rowHeight, class: "grid" }));
    svg.append(svgEl("text", { x: x(tick), y: rows.length * rowHeight + 16, class: "axis" }, `${tick * 100}%`));
  }
  rows.forEach((row, i) => {
    const y = i * rowHeight;
    const g = svgEl("g", { class: "bar-row", "data-id": row.id, "data-value": row.value });
    g.append(svgEl("text", { x: labelWidth - 8, y: y + 15, class: "bar-label" }, row.label));
    g.append(svgEl("rect", { x: labelWidth, y: y + 4, width: Math.max(1, x(row.value) - labelWidth), height: 14,
      fill: row.colour || "#3b6ea8", class: "bar" }));
    if (row.low !== null && row.low !== undefined) {
      g.append(svgEl("line", { x1: x(row.low), x2: x(row.high), y1: y + 11, y2: y + 11, class: "whisker" }));
      g.append(svgEl("line", { x1: x(row.low), x2: x(row.low), y1: y + 6, y2: y + 16, class: "whisker" }));
      g.append(svgEl("line", { x1: x(row.high), x2: x(row.high), y1: y + 6, y2: y + 16, class: "whisker" }));
    }
    if (row.prior !== undefined) {
      g.append(svgEl("line", { x1: x(row.prior), x2: x(row.prior), y1: y + 2, y2: y + 20, class: "prior" }));
    }
    const text = pct(row.value) + (row.low !== null && row.low !== undefined ? ` (${pct(row.low)}-${pct(row.high)})` : "");
    g.append(svgEl("text", { x: Math.min(x(Math.max(row.value, row.high || 0)) + 6, width - 4), y: y + 15,
      class: "bar-value" }, text));
    const title = svgEl("title", {}, `${row.label}: ${text}` + (row.prior !== undefined ? `; prior ${pct(row.prior)}` : ""));
    g.append(title);
    svg.append(g);
  });
}

function renderDifferential(rows, draws) {
  const top = rows.slice(0, 10).map((r) => ({ id: r.id, label: r.label, value: r.p_cause,
    low: r.interval ? r.interval[0] : null, high: r.interval ? r.interval[1] : null, prior: r.prior_cause,
    colour: GROUP_COLOURS[r.group] }));
  barChart($("differential"), top, {});
  $("differential").dataset.intervals = draws ? String(draws) : "";
}

function renderGroups(rows) {
  barChart($("groups"), rows.map((r) => ({ id: r.id, label: r.label, value: r.p_cause,
    low: r.interval ? r.interval[0] : null, high: r.interval ? r.interval[1] : null, prior: r.prior_cause,
    colour: GROUP_COLOURS[r.id] })), {});
}

function renderOther(other, interval, conditions) {
  $("other-causes").textContent = `Other or idiopathic causes (outside the ${conditions} conditions): p_cause ${pct(other.p_cause)}`
    + (interval ? ` (${pct(interval[0])}-${pct(interval[1])})` : "") + `, prior ${pct(other.prior_cause)}.`;
}

function renderImpact(rows, leader) {
  const box = $("impact");
  box.replaceChildren();
  const mine = rows.filter((r) => r.cause === leader);
  if (!mine.length) { box.append(el("p", { class: "hint" }, "No finding entered: the differential is the case mix.")); return; }
  const table = el("table", { class: "impact" });
  table.append(tableRow(["finding", "LR", "decibans", ""], "th"));
  for (const r of mine) {
    const tr = tableRow([`${r.finding} = ${r.state}`, r.likelihood_ratio === null ? "n/a" : r.likelihood_ratio.toPrecision(3),
      r.decibans === null ? "n/a" : r.decibans.toFixed(1), r.direction]);
    tr.classList.add(r.decibans > 0 ? "supports" : "against");
    table.append(tr);
  }
  box.append(el("p", {}, `For ${label(leader)}:`), table);
}

function tableRow(cells, tag = "td") {
  const tr = el("tr");
  for (const c of cells) tr.append(el(tag, {}, String(c)));
  return tr;
}

function renderTests(tests) {
  const box = $("next-tests");
  box.replaceChildren();
  if (!tests.length) { box.append(el("p", { class: "hint" }, "Every finding is known.")); return; }
  for (const t of tests.slice(0, 6)) {
    const item = el("div", { class: "test" });
    const button = el("button", { type: "button", class: "test-name", "data-finding": t.finding },
      `${t.finding.replace(/_/g, " ")} (${t.category}): ${t.information_gain.toFixed(3)} bits`);
    const results = el("div", { class: "results", hidden: "" });
    for (const r of t.results) {
      const b = el("button", { type: "button", class: "result", "data-finding": t.finding, "data-state": r.state },
        `${r.state.replace(/_/g, " ")} (expected ${pct(r.probability)}) -> leading ${label(r.new_leader)} ${pct(r.leader_p_cause)}`);
      b.addEventListener("click", () => setFinding(t.finding, r.state));
      results.append(b);
    }
    button.addEventListener("click", () => {
      results.hidden = !results.hidden;
      const row = $("row-" + t.finding);
      if (row) {
        row.closest("details").open = true;
        row.classList.add("suggested");
        setTimeout(() => row.classList.remove("suggested"), 2500);
      }
    });
    item.append(button, results);
    box.append(item);
  }
}

async function downloadReport() {
  $("report-status").textContent = `Writing the report (${state.meta.report_draws} parameter draws and the sensitivity analysis: a few seconds)...`;
  try {
    const response = await api("/api/report", { scenario: state.scenario, evidence: state.evidence, case: state.case });
    const blob = await response.blob();
    const disposition = response.headers.get("content-disposition") || "";
    const match = disposition.match(/filename="([^"]+)"/);
    const link = el("a", { href: URL.createObjectURL(blob), download: match ? match[1] : "calcinosis_report.html" });
    document.body.append(link);
    link.click();
    link.remove();
    $("report-status").textContent = "Report downloaded.";
  } catch (error) {
    $("report-status").textContent = "";
    showError("consult-error", error.message);
  }
}

// ---------------------------------------------------------------- teaching
async function refreshTeaching() {
  if (!$("lesson").childElementCount) showLesson($("lesson-select").value);
  drawNetwork();
  if (!state.teachDirty) return;
  state.teachDirty = false;
  const generation = state.generation;
  const box = $("walkthrough");
  box.replaceChildren(el("p", { class: "hint" }, "Computing the walkthrough..."));
  try {
    const w = await api("/api/walkthrough", { scenario: state.scenario, evidence: state.evidence });
    if (generation !== state.generation) return;
    showError("teach-error", "");
    renderWalkthrough(w);
  } catch (error) {
    box.replaceChildren();
    showError("teach-error", error.message);
  }
}

function renderWalkthrough(w) {
  const box = $("walkthrough");
  box.replaceChildren();
  const start = el("div", { class: "step" });
  start.append(el("h3", {}, "Start: a calcification is present, nothing else is known (the scenario's case mix)"));
  start.append(el("p", {}, w.hypotheses.map((h) => `${w.labels[h]}: ${pct(w.start.posterior[h])}`).join("; ")));
  box.append(start);
  if (!w.steps.length) box.append(el("p", { class: "hint" }, "No finding entered yet."));
  w.steps.forEach((s, i) => {
    const step = el("details", { class: "step", "data-step": String(s.step) });
    step.open = i === w.steps.length - 1;  // the last step open; the others one click away
    step.append(el("summary", {}, `Step ${s.step} of ${w.steps.length}: ${s.finding} = ${s.state} `
      + `(probability of this finding given what was known: ${pct(s.p_finding)}); leading: ${w.labels[s.leader]} `
      + `${pct(s.posterior[s.leader])}`));
    step.append(el("pre", { class: "arithmetic" }, w.explanations[i].map((lines) => lines.join("\n")).join("\n")));
    step.append(el("p", {}, `Leading cause now: ${w.labels[s.leader]} (${pct(s.posterior[s.leader])}).`));
    box.append(step);
  });
  const final = Object.entries(w.final).sort((a, b) => b[1] - a[1]).slice(0, 5);
  box.append(el("p", { class: "final" }, "Final posterior (the same as the consultation with all the evidence at once): "
    + final.map(([c, p]) => `${w.labels[c]} ${pct(p)}`).join("; ") + "."));
}

async function showLesson(name) {
  const box = $("lesson");
  box.replaceChildren(el("p", { class: "hint" }, "Computing the lesson on the network (a few seconds the first time)..."));
  try {
    const lesson = state.lessons[name] || await api("/api/lesson/" + encodeURIComponent(name));
    state.lessons[name] = lesson;
    if ($("lesson-select").value !== name) return;
    box.replaceChildren(el("h3", {}, lesson.title));
    for (const p of lesson.text) box.append(el("p", {}, p));
    for (const [title, rows] of Object.entries(lesson.tables)) {
      box.append(el("h4", {}, title));
      if (!rows.length) continue;
      const table = el("table", { class: "lesson-table" });
      const columns = Object.keys(rows[0]);
      table.append(tableRow(columns, "th"));
      for (const r of rows) table.append(tableRow(columns.map((c) => formatCell(r[c]))));
      box.append(table);
    }
  } catch (error) {
    box.replaceChildren(el("p", { class: "error" }, error.message));
  }
}

function formatCell(value) {
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toPrecision(3);
  return value === null ? "" : String(value);
}

async function drawNetwork() {
  if (!state.network) state.network = await api("/api/network");
  const { nodes, edges } = state.network;
  const svg = $("network");
  svg.replaceChildren();
  const width = 1400, height = 620, margin = 40;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const ys = nodes.map((n) => n.y), minY = Math.min(...ys), maxY = Math.max(...ys);
  const position = {};
  for (const n of nodes) {
    position[n.id] = [margin + n.x * (width - 2 * margin), margin + (maxY - n.y) / (maxY - minY || 1) * (height - 2 * margin)];
  }
  const observed = new Set(Object.keys(state.evidence));
  observed.add("soft_tissue_calcification");
  for (const [a, b] of edges) {
    const [x1, y1] = position[a], [x2, y2] = position[b];
    svg.append(svgEl("line", { x1, y1, x2, y2, class: observed.has(a) || observed.has(b) ? "edge live" : "edge",
      stroke: nodes.find((n) => n.id === a).group ? GROUP_COLOURS[nodes.find((n) => n.id === a).group] : "#7f7f7f" }));
  }
  for (const n of nodes) {
    const [x, y] = position[n.id];
    const isObserved = observed.has(n.id);
    const fill = n.kind === "condition" ? GROUP_COLOURS[n.group] : (KIND_COLOURS[n.kind] || KIND_COLOURS[n.layer.split(" ")[0]] || "#eee");
    const g = svgEl("g", { class: isObserved ? "node observed" : "node", "data-id": n.id });
    g.append(svgEl("circle", { cx: x, cy: y, r: isObserved ? 9 : 6, fill: isObserved ? "#1f2937" : fill,
      stroke: isObserved ? "#f59e0b" : "#555" }));
    g.append(svgEl("title", {}, n.label + (isObserved ? ` = ${state.evidence[n.id] || "present"} (observed)` : "")));
    const short = n.label.length > 24 ? n.label.slice(0, 23) + "..." : n.label;
    if (n.kind === "condition") {  // slanted: the conditions share one row
      g.append(svgEl("text", { x: x + 4, y: y - 10, class: "node-label slanted", transform: `rotate(-30 ${x + 4} ${y - 10})` }, short));
    } else if (isObserved || n.id === "lesion_cause") {
      g.append(svgEl("text", { x, y: y + 20, class: "node-label" }, short));
    }
    svg.append(g);
  }
}

// ---------------------------------------------------------------- what-if
async function showCaseMix() {
  const chosen = [...document.querySelectorAll("#mix-scenarios input:checked")].map((i) => i.value);
  const svg = $("casemix");
  try {
    showError("mix-error", "");
    svg.replaceChildren(svgEl("text", { x: 10, y: 20 }, "Computing..."));
    svg.setAttribute("viewBox", "0 0 760 30");
    const mix = await api("/api/casemix", { scenarios: chosen });
    const totals = {};
    for (const s of mix.scenarios) for (const c of s.causes) totals[c.id] = Math.max(totals[c.id] || 0, c.p_cause);
    const top = Object.entries(totals).sort((a, b) => b[1] - a[1]).slice(0, 8).map(([id]) => id);
    const palette = ["#3b6ea8", "#e8a33d", "#2b8a3e", "#c92a2a", "#6741d9"];
    const rows = [];
    for (const id of top) {
      mix.scenarios.forEach((s, i) => {
        const c = s.causes.find((x) => x.id === id);
        rows.push({ id: `${s.scenario}:${id}`, label: i === 0 ? label(id) : "", value: c.p_cause, low: c.low, high: c.high,
          colour: palette[i % palette.length] });
      });
    }
    barChart(svg, rows, {});
    const legend = mix.scenarios.map((s, i) => `${s.label}: ${["blue", "orange", "green", "red", "violet"][i % 5]}`).join("; ");
    $("mix-error").hidden = true;
    svg.dataset.scenarios = mix.scenarios.map((s) => s.scenario).join(",");
    svg.append(svgEl("title", {}, legend));
    $("sweep-hint").textContent = "";
    let note = svg.nextElementSibling;
    if (!note || !note.classList.contains("legend")) { note = el("p", { class: "legend" }); svg.after(note); }
    note.textContent = `Bars by scenario (${legend}); whiskers: ${state.meta.credible_percent} interval over ${mix.draws} parameter draws. `
      + "P(cause | a soft-tissue calcification is present, nothing else known).";
  } catch (error) {
    svg.replaceChildren();
    showError("mix-error", error.message);
  }
}

async function sweepRange() {
  try {
    const range = await api("/api/sweep-range", { scenario: $("sweep-scenario").value, condition: $("sweep-condition").value });
    $("sweep-low").value = Number(range.low.toPrecision(3));
    $("sweep-high").value = Number(range.high.toPrecision(3));
    const given = Object.keys(range.given).length ? ` (stated in the stratum ${JSON.stringify(range.given)})` : "";
    $("sweep-hint").textContent = `Stated occurrence ${pct(range.stated)}${given}, interval ${pct(range.low)}-${pct(range.high)}; `
      + `the network now implies ${pct(range.current)} in this population. The range defaults to the stated interval.`;
    state.sweepCurrent = range.current;
  } catch (error) { showError("sweep-error", error.message); }
}

async function runSweep() {
  const body = { scenario: $("sweep-scenario").value, condition: $("sweep-condition").value,
    low: Number($("sweep-low").value), high: Number($("sweep-high").value), points: Number($("sweep-points").value),
    target: $("sweep-target").value, measure: $("sweep-measure").value,
    evidence: $("sweep-use-evidence").checked ? state.evidence : {} };
  const svg = $("sweep-chart");
  try {
    showError("sweep-error", "");
    svg.replaceChildren(svgEl("text", { x: 10, y: 20 }, "Computing the sweep..."));
    svg.setAttribute("viewBox", "0 0 760 30");
    drawSweep(await api("/api/sweep", body));
  } catch (error) {
    svg.replaceChildren();
    showError("sweep-error", error.message);
  }
}

function drawSweep(result) {
  const svg = $("sweep-chart");
  svg.replaceChildren();
  const width = 760, height = 340, left = 70, right = 20, top = 20, bottom = 50;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const lx = result.values.map(Math.log10), x0 = Math.min(...lx), x1 = Math.max(...lx);
  const finite = [...result.high, ...result.point].filter((v) => v !== null);
  const yMax = Math.max(...finite, 1e-6) * 1.1;
  const X = (v) => left + (Math.log10(v) - x0) / (x1 - x0 || 1) * (width - left - right);
  const Y = (p) => top + (1 - p / yMax) * (height - top - bottom);
  for (let i = 0; i <= 4; i++) {
    const p = yMax * i / 4;
    svg.append(svgEl("line", { x1: left, x2: width - right, y1: Y(p), y2: Y(p), class: "grid" }));
    svg.append(svgEl("text", { x: left - 6, y: Y(p) + 4, class: "axis-y" }, axisPct(p)));
  }
  result.values.forEach((v) => svg.append(svgEl("text", { x: X(v), y: height - bottom + 16, class: "axis" }, axisPct(v))));
  const ok = result.values.map((v, i) => i).filter((i) => result.low[i] !== null && result.point[i] !== null);
  const band = ok.map((i) => `${X(result.values[i])},${Y(result.high[i])}`)
    .concat(ok.slice().reverse().map((i) => `${X(result.values[i])},${Y(result.low[i])}`));
  svg.append(svgEl("polygon", { points: band.join(" "), class: "band" }));
  svg.append(svgEl("polyline", { points: ok.map((i) => `${X(result.values[i])},${Y(result.point[i])}`).join(" "), class: "line" }));
  ok.forEach((i) => svg.append(svgEl("circle", { cx: X(result.values[i]), cy: Y(result.point[i]), r: 3.5, class: "dot" },
  )));
  if (state.sweepCurrent && state.sweepCurrent >= result.values[0] && state.sweepCurrent <= result.values[result.values.length - 1]) {
    const cx = X(state.sweepCurrent);
    svg.append(svgEl("line", { x1: cx, x2: cx, y1: top, y2: height - bottom, class: "current" }));
    svg.append(svgEl("text", { x: cx + 4, y: top + 12, class: "axis-left" }, "now"));
  }
  svg.append(svgEl("text", { x: (left + width) / 2, y: height - 12, class: "axis" },
    `occurrence of ${label(result.condition)} in the population (log scale)`));
  svg.dataset.points = String(result.values.length);
  $("sweep-hint").textContent = `${result.measure} of ${label(result.target)}: line = point estimate; band = `
    + `${Math.round(result.credible_mass * 100)}% interval over ${result.draws} parameter draws of the other priors. `
    + `Evidence: ${Object.entries(result.evidence).map(([k, v]) => `${k}=${v}`).join(", ")}.`;
}

document.addEventListener("DOMContentLoaded", () => {
  start().catch((error) => { $("status").textContent = "The page could not start: " + error.message; });
});
