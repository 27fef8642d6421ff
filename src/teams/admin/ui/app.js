// The team dashboard: login, keys (create, edit limits, revoke), usage (tables and a chart), open streams, message batches.
// Plain DOM, no framework. Data from the API only ever goes in through textContent / value.
import { api, ApiFailure, query, session } from "./client.js";
import { barChart } from "./chart.js";

const $ = (id) => document.getElementById(id);
const STREAMS_EVERY_MS = 5000;

// ---------- formatting ----------

const int = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
/** Dollars: cents from $1, four decimals from a cent, five significant digits below (a request costs fractions of a cent). */
function usd(v) {
  const n = Number(v ?? 0);
  if (!Number.isFinite(n) || n === 0) return "$0.00";
  const a = Math.abs(n);
  const text = a >= 1 ? a.toFixed(2) : a >= 0.01 ? a.toFixed(4) : Number(a.toPrecision(5)).toFixed(12).replace(/(\.\d*?[1-9])0+$/, "$1");
  return `${n < 0 ? "-" : ""}$${text}`;
}
const when = (iso) => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "");
const PERIOD = { day: "per day", month: "per month", total: "in total" };

function keyStatus(k) {
  if (k.revoked_at) return "Revoked";
  if (k.expires_at && Date.parse(k.expires_at) <= Date.now()) return "Expired";
  return "Active";
}

function cell(row, text, { header = false, cls } = {}) {
  const c = document.createElement(header ? "th" : "td");
  if (header) c.scope = "row";
  if (cls) c.className = cls;
  c.textContent = text;
  row.append(c);
  return c;
}

function button(label, onClick, { cls, ariaLabel } = {}) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  if (cls) b.className = cls;
  if (ariaLabel) b.setAttribute("aria-label", ariaLabel);
  b.addEventListener("click", onClick);
  return b;
}

// ---------- status messages ----------

let statusTimer;
function say(message) {
  clearTimeout(statusTimer);
  $("status").textContent = message;
  statusTimer = setTimeout(() => ($("status").textContent = ""), 8000);
}

/** A failed call: a lost session sends the user back to the login form; anything else is shown in `target`. */
function fail(err, target) {
  if (err instanceof ApiFailure && err.status === 401) {
    logout("Your admin token is no longer accepted. Log in again.");
    return;
  }
  const text = err instanceof Error ? err.message : String(err);
  if (target) target.textContent = text;
  else say(text);
}

// ---------- the key form (create and edit share its fields) ----------

const FIELDS = [
  { name: "name", label: "Name", type: "text", required: true, hint: "Who or what uses this key, e.g. “alice” or “ci-bot”." },
  { name: "budget_usd", label: "Budget (USD)", type: "number", step: "0.01", min: "0", hint: "Empty: no budget." },
  { name: "budget_period", label: "Budget period", type: "select", options: [["month", "Per month"], ["day", "Per day"], ["total", "In total"]] },
  { name: "rpm", label: "Requests per minute", type: "number", step: "1", min: "1", hint: "Empty: no limit." },
  { name: "tpm", label: "Tokens per minute", type: "number", step: "1", min: "1", hint: "Empty: no limit." },
  { name: "models", label: "Models", type: "text", hint: "Comma-separated globs, e.g. grok-4*, grok-3-mini. Empty: every model." },
  { name: "expires_at", label: "Expires (your local time)", type: "datetime-local", hint: "Empty: never." },
];

function buildFields(container, prefix) {
  for (const f of FIELDS) {
    const wrap = document.createElement("div");
    wrap.className = "field";
    const id = `${prefix}-${f.name}`;
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = f.label;
    let input;
    if (f.type === "select") {
      input = document.createElement("select");
      for (const [value, text] of f.options) input.append(new Option(text, value));
    } else {
      input = document.createElement("input");
      input.type = f.type;
      if (f.step) input.step = f.step;
      if (f.min) input.min = f.min;
      if (f.type === "text") input.spellcheck = false;
    }
    input.id = id;
    input.name = f.name;
    if (f.required) input.required = true;
    wrap.append(label, input);
    if (f.hint) {
      const hint = document.createElement("small");
      hint.id = `${id}-hint`;
      hint.textContent = f.hint;
      input.setAttribute("aria-describedby", hint.id);
      wrap.append(hint);
    }
    container.append(wrap);
  }
}

/** ISO 8601 → the value of a datetime-local input (local time, minutes). */
function toLocalInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * The form's fields as an API body. Creating, an empty field is left out; editing, it is `null` (clears).
 * Throws an Error naming the field for a value the API would refuse.
 */
function readKeyForm(form, { editing }) {
  const v = (name) => form.elements.namedItem(name).value.trim();
  const body = {};
  const empty = (name) => {
    if (editing) body[name] = null;
  };
  const name = v("name");
  if (!name) throw new Error("Give the key a name.");
  body.name = name;
  const number = (field, label, integer) => {
    const raw = v(field);
    if (raw === "") return empty(field);
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0 || (integer && (!Number.isInteger(n) || n < 1))) {
      throw new Error(`${label}: ${integer ? "a whole number, at least 1" : "a number, at least 0"}.`);
    }
    body[field] = n;
  };
  number("budget_usd", "Budget", false);
  if (body.budget_usd != null) body.budget_period = v("budget_period");
  else if (editing) body.budget_period = null;
  number("rpm", "Requests per minute", true);
  number("tpm", "Tokens per minute", true);
  const models = v("models")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (models.length) body.models = models;
  else empty("models");
  const exp = v("expires_at");
  if (exp) {
    const t = new Date(exp);
    if (Number.isNaN(t.getTime())) throw new Error("Expires: not a date and time.");
    body.expires_at = t.toISOString();
  } else empty("expires_at");
  return body;
}

function fillKeyForm(form, k) {
  const set = (name, value) => (form.elements.namedItem(name).value = value ?? "");
  set("name", k.name);
  set("budget_usd", k.budget_usd);
  set("budget_period", k.budget_period ?? "month");
  set("rpm", k.rpm);
  set("tpm", k.tpm);
  set("models", (k.models ?? []).join(", "));
  set("expires_at", toLocalInput(k.expires_at));
}

// ---------- keys ----------

let keys = [];

async function loadKeys() {
  const res = await api("GET", "keys");
  keys = res?.data ?? [];
  renderKeys();
  renderKeyFilter();
}

function renderKeys() {
  const body = $("keys-table").tBodies[0];
  body.replaceChildren();
  for (const k of keys) {
    const tr = document.createElement("tr");
    const status = keyStatus(k);
    tr.dataset.keyId = k.id;
    tr.dataset.status = status.toLowerCase();
    cell(tr, k.name, { header: true });
    cell(tr, k.key_hint ?? "", { cls: "mono" });
    cell(tr, k.budget_usd != null ? `${usd(k.budget_usd)} ${PERIOD[k.budget_period] ?? ""}`.trim() : "None");
    const limits = [k.rpm != null ? `${int.format(k.rpm)} req/min` : "", k.tpm != null ? `${int.format(k.tpm)} tok/min` : ""].filter(Boolean);
    cell(tr, limits.length ? limits.join(", ") : "None");
    cell(tr, k.models?.length ? k.models.join(", ") : "All", { cls: "mono" });
    cell(tr, k.expires_at ? when(k.expires_at) : "Never");
    cell(tr, usd(k.spend_usd), { cls: "num spend" });
    cell(tr, status, { cls: `status-${status.toLowerCase()}` });
    const actions = cell(tr, "");
    if (!k.revoked_at) {
      actions.append(
        button("Edit", () => openEdit(k), { ariaLabel: `Edit key ${k.name}` }),
        button("Revoke", () => openRevoke(k), { cls: "danger", ariaLabel: `Revoke key ${k.name}` }),
      );
    }
    body.append(tr);
  }
  $("keys-empty").hidden = keys.length > 0;
}

function renderKeyFilter() {
  const select = $("usage-key");
  const current = select.value;
  select.replaceChildren(new Option("All keys", ""));
  for (const k of keys) select.append(new Option(k.revoked_at ? `${k.name} (revoked)` : k.name, k.id));
  select.value = keys.some((k) => k.id === current) ? current : "";
}

async function createKey(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const error = $("create-error");
  error.textContent = "";
  let body;
  try {
    body = readKeyForm(form, { editing: false });
  } catch (err) {
    error.textContent = err.message;
    return;
  }
  const submit = form.querySelector("button[type=submit]");
  submit.disabled = true;
  try {
    const created = await api("POST", "keys", body);
    form.reset();
    showSecret(created);
    await loadKeys();
    say(`Key “${created.name}” created.`);
  } catch (err) {
    fail(err, error);
  } finally {
    submit.disabled = false;
  }
}

function showSecret(created) {
  $("new-secret-name").textContent = created.name;
  $("new-secret-value").value = created.key;
  $("new-secret").hidden = false;
  $("new-secret-value").focus();
  $("new-secret-value").select();
}

function hideSecret() {
  $("new-secret-value").value = "";
  $("new-secret").hidden = true;
  $("create-form").elements.namedItem("name").focus();
}

async function copySecret() {
  const input = $("new-secret-value");
  try {
    await navigator.clipboard.writeText(input.value);
    say("Key copied to the clipboard.");
  } catch {
    input.focus();
    input.select();
    say("Copying was refused by the browser: the key is selected, press Ctrl+C (⌘C) to copy it.");
  }
}

let editing;
function openEdit(k) {
  editing = k;
  const form = $("edit-form");
  fillKeyForm(form, k);
  $("edit-heading").textContent = `Edit key “${k.name}”`;
  $("edit-error").textContent = "";
  $("edit-dialog").showModal();
  form.elements.namedItem("name").focus();
}

async function saveEdit(event) {
  event.preventDefault();
  const error = $("edit-error");
  error.textContent = "";
  let body;
  try {
    body = readKeyForm(event.currentTarget, { editing: true });
  } catch (err) {
    error.textContent = err.message;
    return;
  }
  try {
    await api("PATCH", `keys/${encodeURIComponent(editing.id)}`, body);
    $("edit-dialog").close();
    await loadKeys();
    say(`Key “${body.name}” saved.`);
  } catch (err) {
    fail(err, error);
  }
}

let revoking;
function openRevoke(k) {
  revoking = k;
  $("revoke-text").textContent = `Requests with key “${k.name}” (${k.key_hint ?? "…"}) will be refused from now on. This cannot be undone.`;
  $("revoke-error").textContent = "";
  $("revoke-dialog").showModal();
  // The safe choice has the focus.
  $("revoke-dialog").querySelector("[data-close]").focus();
}

async function confirmRevoke(event) {
  event.preventDefault();
  try {
    await api("DELETE", `keys/${encodeURIComponent(revoking.id)}`);
    $("revoke-dialog").close();
    await loadKeys();
    say(`Key “${revoking.name}” revoked.`);
  } catch (err) {
    fail(err, $("revoke-error"));
  }
}

// ---------- usage ----------

const dayString = (d) => d.toISOString().slice(0, 10);

function defaultRange() {
  const to = new Date();
  const from = new Date(to.getTime() - 29 * 86_400_000);
  $("usage-from").value = dayString(from);
  $("usage-to").value = dayString(to);
}

function usageRows(table, rows, label) {
  const body = $(table).tBodies[0];
  body.replaceChildren();
  if (!rows.length) {
    const tr = document.createElement("tr");
    const td = cell(tr, "No requests in this range.");
    td.colSpan = 6;
    body.append(tr);
    return;
  }
  for (const r of rows) {
    const tr = document.createElement("tr");
    cell(tr, label(r), { header: true });
    cell(tr, int.format(r.requests ?? 0), { cls: "num" });
    cell(tr, int.format(r.input_tokens ?? 0), { cls: "num" });
    cell(tr, int.format(r.output_tokens ?? 0), { cls: "num" });
    cell(tr, int.format(r.cached_tokens ?? 0), { cls: "num" });
    cell(tr, usd(r.cost_usd), { cls: "num" });
    body.append(tr);
  }
}

/** Every day of the range, zero where nothing was spent, so the chart's gaps are visible. */
function everyDay(rows, from, to) {
  const byDay = new Map(rows.map((r) => [String(r.day).slice(0, 10), Number(r.cost_usd ?? 0)]));
  const out = [];
  for (let t = Date.parse(`${from}T00:00:00Z`), end = Date.parse(`${to}T00:00:00Z`), n = 0; t <= end && n < 400; t += 86_400_000, n++) {
    const day = new Date(t).toISOString().slice(0, 10);
    out.push({ label: day.slice(5), value: byDay.get(day) ?? 0 });
  }
  return out;
}

async function loadUsage(event) {
  event?.preventDefault();
  const error = $("usage-error");
  error.textContent = "";
  const from = $("usage-from").value;
  const to = $("usage-to").value;
  if (!from || !to) return void (error.textContent = "Choose both dates.");
  if (from > to) return void (error.textContent = "“From” comes after “To”.");
  const range = {
    from: `${from}T00:00:00.000Z`,
    // Inclusive: up to the start of the next day.
    to: new Date(Date.parse(`${to}T00:00:00Z`) + 86_400_000).toISOString(),
    key_id: $("usage-key").value,
  };
  try {
    const [byKey, byModel, byDay] = await Promise.all(
      ["key", "model", "day"].map((group_by) => api("GET", `usage${query({ ...range, group_by })}`)),
    );
    const names = new Map(keys.map((k) => [k.id, k.name]));
    usageRows("usage-key-table", byKey?.data ?? [], (r) => r.key_name ?? names.get(r.key_id) ?? r.key_id ?? "(static key)");
    usageRows("usage-model-table", byModel?.data ?? [], (r) => r.model);
    const days = [...(byDay?.data ?? [])].sort((a, b) => String(a.day).localeCompare(String(b.day)));
    usageRows("usage-day-table", days, (r) => String(r.day).slice(0, 10));
    $("usage-chart").replaceChildren(barChart(everyDay(days, from, to), {
      title: `Cost per day, ${from} to ${to} (UTC)`,
      format: usd,
      tickFormat: (v, decimals) => `$${v.toFixed(decimals)}`,
    }));
  } catch (err) {
    fail(err, error);
  }
}

// ---------- streams ----------

let streamsTimer;
function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

async function loadStreams() {
  try {
    const res = await api("GET", "streams");
    const rows = res?.data ?? [];
    const body = $("streams-table").tBodies[0];
    body.replaceChildren();
    for (const s of rows) {
      const tr = document.createElement("tr");
      cell(tr, s.request_id, { header: true, cls: "mono" });
      cell(tr, s.key_name ?? s.key_id ?? "(static key)");
      cell(tr, s.model ?? "");
      cell(tr, s.path ?? "", { cls: "mono" });
      cell(tr, when(s.started_at));
      cell(tr, duration(Date.now() - Date.parse(s.started_at)), { cls: "num" });
      body.append(tr);
    }
    $("streams-empty").hidden = rows.length > 0;
    $("streams-updated").textContent = `Last update: ${new Date().toLocaleTimeString()}.`;
  } catch (err) {
    fail(err);
  }
}

function startStreams() {
  stopStreams();
  void loadStreams();
  streamsTimer = setInterval(() => {
    if (document.visibilityState === "visible") void loadStreams();
  }, STREAMS_EVERY_MS);
}

function stopStreams() {
  clearInterval(streamsTimer);
  streamsTimer = undefined;
}

// ---------- message batches ----------

const STATUS = { in_progress: "In progress", canceling: "Canceling", ended: "Ended" };

async function loadBatches() {
  try {
    const res = await api("GET", "batches");
    const rows = res?.data ?? [];
    const body = $("batches-table").tBodies[0];
    body.replaceChildren();
    for (const b of rows) {
      const tr = document.createElement("tr");
      cell(tr, b.id, { header: true, cls: "mono" });
      cell(tr, b.owner ?? "");
      cell(tr, b.mode === "xai" ? "xAI Batch API" : "gateway");
      cell(tr, (STATUS[b.processing_status] ?? b.processing_status) + (b.archived_at ? " (results archived)" : ""));
      cell(tr, int.format(b.request_count), { cls: "num" });
      for (const k of ["processing", "succeeded", "errored", "canceled", "expired"]) cell(tr, int.format(b.request_counts?.[k] ?? 0), { cls: "num" });
      cell(tr, when(b.created_at));
      body.append(tr);
    }
    $("batches-empty").hidden = rows.length > 0;
    $("batches-updated").textContent = `Last update: ${new Date().toLocaleTimeString()}.`;
  } catch (err) {
    fail(err);
  }
}

// ---------- login / logout ----------

function showLogin(message = "") {
  stopStreams();
  $("app").hidden = true;
  $("nav").hidden = true;
  $("logout").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message;
  $("login-token").value = "";
  $("login-token").setAttribute("aria-invalid", message ? "true" : "false");
  $("login-token").focus();
}

async function showApp() {
  $("login").hidden = true;
  $("app").hidden = false;
  $("nav").hidden = false;
  $("logout").hidden = false;
  await loadKeys();
  await loadUsage();
  startStreams();
  await loadBatches();
}

async function login(event) {
  event.preventDefault();
  const token = $("login-token").value.trim();
  const error = $("login-error");
  if (!token) {
    error.textContent = "Enter the admin token.";
    $("login-token").setAttribute("aria-invalid", "true");
    return;
  }
  try {
    // A cheap authorised read tells whether the token is right.
    await api("GET", "keys", undefined, token);
  } catch (err) {
    const message =
      err instanceof ApiFailure && (err.status === 401 || err.status === 403)
        ? "That admin token is not accepted. Check it and try again."
        : err.message;
    error.textContent = message;
    $("login-token").setAttribute("aria-invalid", "true");
    $("login-token").select();
    return;
  }
  session.token = token;
  $("login-token").value = "";
  error.textContent = "";
  try {
    await showApp();
    say("Logged in.");
    $("main").focus();
  } catch (err) {
    fail(err);
  }
}

function logout(message) {
  session.token = null;
  keys = [];
  $("keys-table").tBodies[0].replaceChildren();
  $("new-secret-value").value = "";
  $("new-secret").hidden = true;
  for (const d of document.querySelectorAll("dialog[open]")) d.close();
  showLogin(typeof message === "string" ? message : "");
  say(typeof message === "string" ? message : "Logged out.");
}

// ---------- wiring ----------

function init() {
  buildFields(document.querySelector("[data-fields=create]"), "create");
  buildFields(document.querySelector("[data-fields=edit]"), "edit");
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", () => logout());
  $("create-form").addEventListener("submit", createKey);
  $("copy-secret").addEventListener("click", copySecret);
  $("dismiss-secret").addEventListener("click", hideSecret);
  $("refresh-keys").addEventListener("click", async () => {
    try {
      await loadKeys();
      say("Keys refreshed.");
    } catch (err) {
      fail(err);
    }
  });
  $("edit-form").addEventListener("submit", saveEdit);
  $("revoke-form").addEventListener("submit", confirmRevoke);
  for (const b of document.querySelectorAll("dialog [data-close]")) b.addEventListener("click", () => b.closest("dialog").close());
  $("usage-form").addEventListener("submit", loadUsage);
  $("refresh-batches").addEventListener("click", () => void loadBatches());
  defaultRange();

  if (session.token) {
    showApp().catch((err) => fail(err));
  } else {
    showLogin();
  }
}

init();
