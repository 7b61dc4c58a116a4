// The kernel-actors console: one script, no framework, no build step.
//
// Auth: the token the operator types is kept in the variable `token`
// alone, never in a URL, a cookie or any storage, and sent as
// "Authorization: Bearer" with every request. So the live stream is
// read with fetch() and a ReadableStream, not EventSource, which cannot
// send that header. Reloading the page forgets the token.
"use strict";

let token = "";          // the bearer token, in memory only
let streamCtl = null;    // aborts the event stream at log-out
let selectedVat = "";    // the vat the action buttons act on
const history = [];      // chart points, newest last
const maxPoints = 120;

const $ = (id) => document.getElementById(id);

// api calls the control API with the token; a non-2xx answer throws its
// JSON error's message and code.
async function api(method, path, body) {
  const opts = { method, headers: { Authorization: "Bearer " + token }, cache: "no-store" };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  const resp = await fetch(path, opts);
  // Read as text first: an answer that is not JSON (a proxy's error
  // page) is still shown, as its text, rather than lost to a parse error.
  const text = await resp.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (!resp.ok) {
    const err = data && data.error ? data.error : { status: resp.status, code: "HTTP", message: text };
    const e = new Error(err.message + " (" + err.code + ")");
    e.status = resp.status;
    throw e;
  }
  return data;
}

// el makes an element with text content (never HTML: kernel data is
// shown as text, so nothing it holds can run as markup).
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

// setConn shows the stream's state in the header: live, reconnecting or
// signed out.
function setConn(state, text) {
  const c = $("conn");
  c.className = "conn " + state;
  c.textContent = text;
}

// ---- login ----

async function login(ev) {
  ev.preventDefault();
  const field = $("login-token");
  // Trimmed: a token pasted from `cat k.db.token` carries its newline.
  token = field.value.trim();
  field.value = ""; // the field does not keep it either
  $("login-error").textContent = "";
  // Checked before the console opens: a wrong token is named at the form,
  // not discovered later as a stream that keeps failing.
  try {
    await api("GET", "/v1/status");
  } catch (e) {
    token = "";
    $("login-error").textContent = e.status === 401 ? "That token is not this daemon's." : e.message;
    return;
  }
  $("login").hidden = true;
  $("console").hidden = false;
  $("logout-button").hidden = false;
  stream();
  search(); // the objects table starts filled, as the others do from the stream
}

// logout forgets the token and ends the stream (the daemon then drops
// the stream's subscription, as for a closed tab).
function logout() {
  token = "";
  if (streamCtl) streamCtl.abort();
  streamCtl = null;
  $("console").hidden = true;
  $("login").hidden = false;
  $("logout-button").hidden = true;
  setConn("off", "signed out");
}

// ---- the event stream ----

// stream reads /v1/events as Server-Sent Events until log-out,
// reconnecting after a pause when the stream ends or fails.
async function stream() {
  const ctl = new AbortController();
  streamCtl = ctl;
  let retryMs = 1000;
  while (!ctl.signal.aborted && token) {
    try {
      const resp = await fetch("/v1/events", {
        headers: { Authorization: "Bearer " + token, Accept: "text/event-stream" },
        cache: "no-store", signal: ctl.signal,
      });
      // A 401 here means the daemon restarted with a new token: retrying
      // would never succeed, so the operator is asked for the new one.
      if (resp.status === 401) { logout(); $("login-error").textContent = "The daemon no longer takes this token (it restarted?)."; return; }
      if (!resp.ok) throw new Error("events: HTTP " + resp.status);
      setConn("live", "live");
      // The body as text chunks; an event may span chunks, and a chunk
      // may hold several events, so blocks are cut at blank lines.
      const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          retryMs = onEvent(block, retryMs);
        }
      }
    } catch (e) {
      // An abort is the log-out; anything else (the daemon stopped, the
      // network dropped) is retried below.
      if (ctl.signal.aborted) return;
    }
    setConn("retry", "reconnecting");
    await new Promise((r) => setTimeout(r, retryMs));
  }
}

// onEvent handles one SSE block; it returns the reconnect pause. It
// follows the SSE format's field rules (one optional space after the
// colon, data lines joined with newlines, comment lines ignored), so a
// proxy that re-chunks the stream changes nothing.
function onEvent(block, retryMs) {
  let event = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue; // a comment (keep-alive)
    const c = line.indexOf(":");
    const field = c < 0 ? line : line.slice(0, c);
    const value = c < 0 ? "" : line.slice(c + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
    else if (field === "retry" && /^\d+$/.test(value)) retryMs = Number(value);
  }
  if (event === "snapshot" && data.length) render(JSON.parse(data.join("\n")));
  return retryMs;
}

// ---- rendering ----

// render shows one frame: the counts always, the tables only when the
// frame carries a view (the daemon sends one only when it changed).
function render(f) {
  $("cranks").textContent = f.cranks;
  $("rate").textContent = f.point.cranksPerSecond.toFixed(1);
  $("queue-length").textContent = f.queueLength;
  $("live-vats").textContent = f.liveVats;
  $("missed").textContent = f.missed;
  if (f.point.flushes > 0) $("commit-mean").textContent = f.point.commitMeanMs.toFixed(2) + " ms";
  // A first frame (also after a reconnect) brings the history whole and
  // replaces ours; later frames add their own point.
  if (f.history) { history.length = 0; history.push(...f.history); }
  else history.push(f.point);
  while (history.length > maxPoints) history.shift();
  drawCharts();
  renderQueue(f);
  if (f.view) renderView(f);
}

// line gives an SVG polyline's points for values scaled to max.
// The SVG's viewBox is 300x60; 2 units of margin keep a flat line visible.
function line(values, max) {
  const n = values.length;
  if (n === 0) return "";
  const step = n > 1 ? 300 / (n - 1) : 0;
  return values.map((v, i) => (i * step).toFixed(1) + "," + (58 - (max > 0 ? v / max : 0) * 56).toFixed(1)).join(" ");
}

// drawCharts redraws both charts from the history. The latency chart
// shares one scale for its two lines, so mean and p99 compare by eye.
function drawCharts() {
  const rates = history.map((p) => p.cranksPerSecond);
  $("spark-line").setAttribute("points", line(rates, Math.max(1, ...rates)));
  const mean = history.map((p) => p.commitMeanMs);
  const p99 = history.map((p) => p.commitP99Ms);
  const top = Math.max(0.001, ...p99, ...mean);
  $("latency-mean").setAttribute("points", line(mean, top));
  $("latency-p99").setAttribute("points", line(p99, top));
  $("latency-max").textContent = "scale: 0 to " + top.toFixed(2) + " ms; peak rate " + Math.max(0, ...rates).toFixed(1) + "/s";
}

// renderQueue shows the head of the run queue, in the order it will run.
function renderQueue(f) {
  const q = $("queue");
  q.replaceChildren(...f.queue.map((it) => el("li",
    it.kind === "send" ? "send " + it.target + "." + (it.method || "?") : "notify " + it.vat + " of " + it.kpid)));
  if (f.queueLength > f.queue.length) q.append(el("li", "… " + (f.queueLength - f.queue.length) + " more", "hint"));
  if (f.queueLength === 0) q.append(el("li", "empty", "hint"));
}

// renderView rebuilds the vats table, the vat chooser and the
// subclusters. Rebuilt whole: at most 500 rows, and only when changed.
function renderView(f) {
  const v = f.view;
  $("vats-total").textContent = v.vats.length < f.vatsTotal ? "(first " + v.vats.length + " of " + f.vatsTotal + ")" : "";
  const body = $("vats").tBodies[0];
  body.replaceChildren(...v.vats.map((vat) => {
    const tr = el("tr");
    tr.dataset.vat = vat.id;
    if (vat.id === selectedVat) tr.className = "selected";
    tr.append(el("td", vat.id, "mono"), el("td", vat.name), el("td", vat.subcluster, "mono"),
      el("td", vat.state, "state state-" + vat.state), el("td", vat.incarnation, "inc"),
      el("td", vat.cranks, "cranks"), el("td", vat.aborted, "aborted"),
      el("td", vat.lastError ? vat.lastError + " (crank " + vat.lastErrorCrank + ")" : "", "err"));
    const td = el("td");
    const b = el("button", "Select", "small");
    b.type = "button";
    b.addEventListener("click", () => selectVat(vat.id));
    td.append(b);
    tr.append(td);
    return tr;
  }));
  // The chooser keeps the operator's choice across rebuilds, so a frame
  // arriving between Select and Terminate cannot retarget the button.
  const sel = $("vat-select");
  const keep = sel.value;
  sel.replaceChildren(...v.vats.map((vat) => {
    const o = el("option", vat.id + " " + vat.name + " (" + vat.state + ")");
    o.value = vat.id;
    return o;
  }));
  if (keep && v.vats.some((x) => x.id === keep)) sel.value = keep;
  selectedVat = sel.value;
  $("subclusters").replaceChildren(...v.subclusters.map((s) => {
    const li = el("li");
    li.dataset.subcluster = s.id;
    li.append(el("strong", s.id + " "), el("span", "bootstrap " + s.bootstrap + ", root "));
    li.append(refLink(s.root));
    const ul = el("ul", null, "mono");
    for (const x of s.vats) {
      const vi = el("li", x.name + " = " + x.id + (x.root ? ", root " : ""));
      vi.dataset.vat = x.id;
      if (x.root) vi.append(refLink(x.root));
      ul.append(vi);
    }
    li.append(ul);
    return li;
  }));
}

// refLink shows a root kref that, clicked, becomes the send form's target.
function refLink(kref) {
  if (!kref) return el("span", "none", "hint");
  const a = el("a", kref, "ref mono");
  a.tabIndex = 0;
  a.addEventListener("click", () => { $("send-target").value = kref; $("send-method").focus(); });
  return a;
}

// selectVat picks the vat the action buttons act on, and marks its row.
function selectVat(id) {
  selectedVat = id;
  $("vat-select").value = id;
  for (const tr of $("vats").tBodies[0].rows) tr.className = tr.dataset.vat === id ? "selected" : "";
}

// ---- actions ----

// arg turns one line of the arguments box into raw JSON text, as the
// send command reads its ARGs: @KREF is a reference, JSON is JSON (sent
// as typed, so a large integer stays exact), anything else is a string.
function arg(s) {
  const m = /^@(k[op](0|[1-9][0-9]{0,17}))$/.exec(s);
  if (m) return JSON.stringify({ "@kref": m[1] });
  try { JSON.parse(s); return s; } catch (e) { return JSON.stringify(s); }
}

async function send(ev) {
  ev.preventDefault();
  const out = $("send-result");
  out.className = "result";
  out.textContent = "sending…";
  const lines = $("send-args").value.split("\n").filter((l) => l.trim() !== "");
  // The body is assembled as text so each argument's JSON goes as typed;
  // JSON.parse and stringify would round an integer past 2^53, where the
  // daemon refuses it by name instead.
  const body = '{"target":' + JSON.stringify($("send-target").value.trim()) +
    ',"method":' + JSON.stringify($("send-method").value.trim()) +
    ',"args":[' + lines.map(arg).join(",") + "]}";
  try {
    const res = await api("POST", "/v1/send", body);
    out.textContent = JSON.stringify(res.result, null, 2);
  } catch (e) {
    out.className = "result bad";
    out.textContent = e.message;
  }
}

// vatAction runs one of the vat buttons on the selected vat. The table
// itself changes when the stream brings the new state; the answer here
// is the API's.
async function vatAction(what) {
  const id = $("vat-select").value;
  const out = $("action-result");
  out.className = "result";
  if (!id) { out.textContent = "no vat selected"; return; }
  const path = "/v1/vats/" + encodeURIComponent(id);
  out.textContent = what + " " + id + "…";
  try {
    if (what === "terminate") {
      await api("POST", path + "/terminate", { reason: $("terminate-reason").value || "terminated from the console" });
      out.textContent = id + " terminated";
    } else if (what === "restart") {
      const r = await api("POST", path + "/restart", {});
      out.textContent = id + " restarted: incarnation " + r.incarnation;
    } else if (what === "upgrade") {
      const r = await api("POST", path + "/upgrade", { bundle: $("upgrade-bundle").value.trim() });
      out.textContent = id + " upgraded: incarnation " + r.incarnation;
    }
    await showLog(id); // every action shows the vat's log after it
  } catch (e) {
    out.className = "result bad";
    out.textContent = e.message;
  }
}

// showLog shows a vat's lifecycle log (launches, restarts, upgrades,
// failures, termination), from the store.
async function showLog(id) {
  $("vatlog-vat").textContent = id;
  const evs = await api("GET", "/v1/vats/" + encodeURIComponent(id) + "/log");
  $("vatlog").replaceChildren(...evs.map((e) => el("li",
    "inc " + e.incarnation + " " + e.event + (e.atCrank ? " at crank " + e.atCrank : "") + (e.reason ? ": " + e.reason : ""))));
  if (evs.length === 0) $("vatlog").append(el("li", "no events", "hint"));
}

// search asks the daemon (which searches the store between cranks) and
// shows at most 100 objects and 100 promises, saying how many matched.
async function search(ev) {
  if (ev) ev.preventDefault();
  const q = $("search-input").value.trim();
  try {
    const r = await api("GET", "/v1/refs?q=" + encodeURIComponent(q) + "&limit=100");
    $("search-summary").textContent = r.objectsMatched + " objects, " + r.promisesMatched + " promises match" +
      (r.objects.length < r.objectsMatched || r.promises.length < r.promisesMatched ? " (first 100 of each shown)" : "");
    $("objects").tBodies[0].replaceChildren(...r.objects.map((o) => {
      const tr = el("tr");
      tr.dataset.kref = o.kref;
      tr.append(el("td", o.kref + (o.revoked ? " (revoked)" : ""), "mono"), el("td", o.owner || "orphaned", "mono"),
        el("td", o.reachable), el("td", o.recognizable), el("td", (o.importers || []).join(" "), "mono"));
      const td = el("td");
      // Only a live, owned object can be revoked: an orphan has nobody to
      // revoke it from, and a revoked one is done.
      if (!o.revoked && o.owner) {
        const b = el("button", "Revoke", "small danger");
        b.type = "button";
        b.addEventListener("click", () => revoke(o.kref));
        td.append(b);
      }
      tr.append(td);
      return tr;
    }));
    $("promises").tBodies[0].replaceChildren(...r.promises.map((p) => {
      const tr = el("tr");
      tr.dataset.kpid = p.kpid;
      tr.append(el("td", p.kpid, "mono"), el("td", p.state), el("td", p.decider || "kernel", "mono"),
        el("td", p.refCount), el("td", p.queued || 0));
      return tr;
    }));
  } catch (e) {
    $("search-summary").textContent = e.message;
  }
}

// revoke revokes an object, then searches again so its row says so.
async function revoke(kref) {
  const out = $("search-summary");
  try {
    await api("POST", "/v1/revoke", { kref });
    await search();
    out.textContent = kref + " revoked. " + out.textContent;
  } catch (e) {
    out.textContent = e.message;
  }
}

// audit runs the auditor on demand: it reads the whole store, so it is
// never run on a timer.
async function audit() {
  const v = $("audit-verdict");
  v.className = "verdict";
  v.textContent = "auditing…";
  try {
    const r = await api("GET", "/v1/audit");
    v.className = "verdict " + (r.ok ? "ok" : "bad");
    v.textContent = (r.ok ? "sound" : "PROBLEMS FOUND") + " after crank " + r.cranks;
    $("audit-problems").replaceChildren(...[...(r.audit.problems || []), ...r.problems].map((p) => el("li", p)));
  } catch (e) {
    v.className = "verdict bad";
    v.textContent = e.message;
  }
}

// Handlers are attached here, not in the HTML: the page's policy runs
// no inline script.
document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", login);
  $("logout-button").addEventListener("click", logout);
  $("send-form").addEventListener("submit", send);
  $("search-form").addEventListener("submit", search);
  $("vat-form").addEventListener("submit", (e) => e.preventDefault());
  $("vat-select").addEventListener("change", () => selectVat($("vat-select").value));
  for (const what of ["terminate", "restart", "upgrade", "log"]) {
    $(what + "-button").addEventListener("click", () => vatAction(what));
  }
  $("audit-button").addEventListener("click", audit);
});
