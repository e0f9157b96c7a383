// Switchboard live dashboard: a small ES module, no build step.
// Logs in over REST, connects to /dashboard with the official socket.io-client
// (served by Flask from node_modules), and keeps the last event id it has seen so
// that a reconnect asks the server to replay what it missed.
import { io } from "/vendor/socket.io/socket.io.esm.min.js";

const $ = (selector) => document.querySelector(selector);
const store = window.sessionStorage;
const FEED_LIMIT = 50;

const state = {
  token: store.getItem("sb.token"),
  refreshToken: store.getItem("sb.refresh"),
  socket: null,
  lastId: 0,
  seen: new Set(), // event ids already applied (live, replayed or both)
  alerts: new Map(), // key -> alert dict (key: alert_id, or "e<event id>" for ad-hoc)
  interventions: new Map(), // id -> intervention dict
  analyticsRoom: null, // the room of our own snapshot (an MSP also hears its clients')
  tenantNames: new Map(), // tenant id -> name, from the snapshot (an MSP sees several)
  refreshTimer: null,
};

// ------------------------------------------------------------------ helpers
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key.startsWith("data-")) node.setAttribute(key, String(value));
    else node[key] = value;
  }
  for (const child of children) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(child instanceof Node ? child : String(child));
    }
  }
  return node;
}

function setStatus(status, detail) {
  const el = $("#status");
  el.dataset.status = status;
  el.querySelector(".label").textContent = detail ? `${status} · ${detail}` : status;
}

// For MSP staff, say which client an item belongs to.
function tenantLabel(tenantId) {
  return state.tenantNames.size > 1 ? state.tenantNames.get(tenantId) : undefined;
}

function shortTime(iso) {
  return iso ? new Date(iso).toLocaleTimeString() : "";
}

async function api(method, path, body, retry = true) {
  const response = await fetch(path, {
    method,
    headers: {
      "Content-Type": "application/json",
      ...(state.token ? { Authorization: `Bearer ${state.token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && retry && (await refreshAccessToken())) {
    return api(method, path, body, false);
  }
  const json = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    throw new Error(json?.error?.message || `${response.status} ${response.statusText}`);
  }
  return json;
}

async function refreshAccessToken() {
  if (!state.refreshToken) return false;
  const response = await fetch("/api/auth/refresh", {
    method: "POST",
    headers: { Authorization: `Bearer ${state.refreshToken}` },
  });
  if (!response.ok) return false;
  state.token = (await response.json()).access_token;
  store.setItem("sb.token", state.token);
  return true;
}

// ------------------------------------------------------------ login / logout
async function login(event) {
  event.preventDefault();
  const form = event.target;
  $("#login-error").textContent = "";
  try {
    const body = await api("POST", "/api/auth/login", {
      email: form.email.value,
      password: form.password.value,
    }, false);
    state.token = body.access_token;
    state.refreshToken = body.refresh_token;
    store.setItem("sb.token", state.token);
    store.setItem("sb.refresh", state.refreshToken);
    form.reset();
    start();
  } catch (error) {
    $("#login-error").textContent = error.message;
  }
}

async function logout() {
  try {
    await api("POST", "/api/auth/logout", undefined, false);
  } catch (_error) {
    // The token may already be gone; logging out locally is what matters.
  }
  stop();
}

function stop(message) {
  state.socket?.disconnect();
  state.socket = null;
  state.token = state.refreshToken = null;
  store.removeItem("sb.token");
  store.removeItem("sb.refresh");
  $("#dashboard-view").hidden = true;
  $("#login-view").hidden = false;
  $("#logout").hidden = true;
  $("#who").textContent = "";
  $("#login-error").textContent = message || "";
  setStatus("offline");
}

// ----------------------------------------------------------------- the socket
function start() {
  $("#login-view").hidden = true;
  $("#dashboard-view").hidden = false;
  $("#logout").hidden = false;
  connect();
}

function connect() {
  setStatus("reconnecting", "connecting");
  const socket = io(`${window.location.origin}/dashboard`, {
    // A function, so every reconnect sends the current token and last id.
    auth: (cb) => cb({ token: state.token, ...(state.lastId ? { last_event_id: state.lastId } : {}) }),
    reconnectionDelay: 500,
    reconnectionDelayMax: 3000,
  });
  state.socket = socket;

  socket.on("connect", () => {
    setStatus("connected");
    // Always refetch: covers a gap the server cannot replay (and servers without replay).
    refetch();
  });
  socket.on("disconnect", (reason) => {
    if (reason === "io client disconnect") setStatus("offline");
    else if (reason === "io server disconnect") setStatus("offline", "disconnected by the server");
    else setStatus("reconnecting");
  });
  socket.io.on("reconnect_attempt", () => setStatus("reconnecting"));
  socket.io.on("reconnect_failed", () => setStatus("offline", "gave up"));
  socket.on("connect_error", async (error) => {
    if (socket.active) {
      setStatus("reconnecting"); // a transport error: the client retries by itself
      return;
    }
    // Refused by the server (auth): one refresh attempt, then back to the login form.
    if (error.message === "token_expired" && (await refreshAccessToken())) {
      socket.connect();
      return;
    }
    stop(`Signed out: ${error.message}`);
  });

  socket.on("welcome", (data) => {
    state.analyticsRoom = null;
    const user = data.user || {};
    $("#who").textContent = `${user.name || "user"} · ${user.role || ""}`;
  });
  socket.on("analytics_update", (envelope) => {
    state.analyticsRoom ??= envelope.room;
    if (envelope.room === state.analyticsRoom) renderAnalytics(envelope.data);
  });
  socket.on("alert", (envelope) => receive(envelope, applyAlert));
  socket.on("intervention", (envelope) => receive(envelope, applyIntervention));
  socket.on("metrics_update", (envelope) => receive(envelope, renderMetrics));
  socket.on("replay_complete", (data) => {
    if (data.last_event_id) noteEventId(data.last_event_id);
    if (data.recovered === false) refetch();
  });
}

function noteEventId(id) {
  if (id > state.lastId) {
    state.lastId = id;
    $("#last-event-id").textContent = String(id);
  }
}

// Live and replayed events arrive through here: each id is applied once.
function receive(envelope, apply) {
  if (envelope.id !== null && envelope.id !== undefined) {
    if (state.seen.has(envelope.id)) return;
    state.seen.add(envelope.id);
    noteEventId(envelope.id);
  }
  apply(envelope.data, envelope);
  if (apply !== renderMetrics) scheduleAnalyticsRefresh();
}

function scheduleAnalyticsRefresh() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(() => state.socket?.emit("refresh", {}, () => {}), 300);
}

async function refetch() {
  try {
    const [alerts, interventions] = await Promise.all([
      api("GET", `/api/dashboard/alerts?limit=${FEED_LIMIT}`),
      api("GET", `/api/dashboard/interventions?limit=${FEED_LIMIT}`),
    ]);
    for (const [key] of state.alerts) if (typeof key === "number") state.alerts.delete(key);
    for (const alert of alerts.alerts) state.alerts.set(alert.alert_id, alert);
    state.interventions = new Map(interventions.interventions.map((item) => [item.id, item]));
    renderAlerts();
    renderInterventions();
  } catch (error) {
    console.warn("refetch failed", error);
  }
}

// -------------------------------------------------------------------- alerts
function isNewer(incoming, existing) {
  return !existing || !existing.updated_at || (incoming.updated_at || "") >= existing.updated_at;
}

function applyAlert(data, envelope) {
  const key = data.alert_id ?? `e${envelope.id}`;
  const alert = {
    ...data,
    tenant_id: data.tenant_id ?? envelope.tenant_id,
    created_at: data.created_at || envelope.timestamp,
  };
  if (isNewer(alert, state.alerts.get(key))) state.alerts.set(key, alert);
  renderAlerts(key);
}

function alertActions(alert) {
  if (!alert.alert_id) return h("span");
  const change = (status) => () =>
    api("PATCH", `/api/dashboard/alerts/${alert.alert_id}`, { status }).catch((e) => alertError(e));
  return h("span", { class: "actions" },
    alert.status === "open" && h("button", { class: "small", type: "button", onclick: change("acknowledged") }, "Ack"),
    alert.status !== "resolved" && h("button", { class: "small", type: "button", onclick: change("resolved") }, "Resolve"),
  );
}

function alertError(error) {
  window.alert(error.message);
}

function renderAlerts(freshKey) {
  const list = $("#alerts");
  const entries = [...state.alerts.entries()].sort(
    ([, a], [, b]) => (b.created_at || "").localeCompare(a.created_at || ""),
  );
  list.replaceChildren(
    ...entries.slice(0, FEED_LIMIT).map(([key, alert]) =>
      h("li", {
          "data-alert-id": alert.alert_id ?? key,
          "data-status": alert.status || "open",
          class: key === freshKey ? "fresh" : "",
        },
        h("span", { class: `badge ${alert.severity}` }, alert.severity),
        h("span", { class: "title" }, alert.title),
        alertActions(alert),
        h("span", { class: "detail" },
          [tenantLabel(alert.tenant_id), alert.status || "open", shortTime(alert.created_at),
            alert.message].filter(Boolean).join(" · ")),
      )),
  );
  if (!entries.length) list.append(h("li", { class: "empty" }, "No alerts."));
}

// ------------------------------------------------------------- interventions
const NEXT_STATUS = { open: ["in_progress", "Start"], in_progress: ["done", "Done"] };

function applyIntervention(data) {
  const item = data.intervention;
  if (isNewer(item, state.interventions.get(item.id))) state.interventions.set(item.id, item);
  renderInterventions(item.id);
}

function renderInterventions(freshId) {
  const list = $("#interventions");
  const items = [...state.interventions.values()].sort((a, b) => b.id - a.id);
  list.replaceChildren(
    ...items.slice(0, FEED_LIMIT).map((item) => {
      const next = NEXT_STATUS[item.status];
      const advance = () =>
        api("PATCH", `/api/dashboard/interventions/${item.id}`, { status: next[0] })
          .catch((e) => alertError(e));
      return h("li", {
          "data-intervention-id": item.id,
          "data-status": item.status,
          class: item.id === freshId ? "fresh" : "",
        },
        h("span", { class: `badge ${item.status}` }, item.status.replace("_", " ")),
        h("span", { class: "title" }, item.title),
        h("span", { class: "actions" },
          next && h("button", { class: "small", type: "button", onclick: advance }, next[1])),
        h("span", { class: "detail" },
          [tenantLabel(item.tenant_id), item.assignee, item.description, shortTime(item.updated_at)]
            .filter(Boolean).join(" · ")),
      );
    }),
  );
  if (!items.length) list.append(h("li", { class: "empty" }, "No interventions."));
}

async function addIntervention(event) {
  event.preventDefault();
  const form = event.target;
  try {
    await api("POST", "/api/dashboard/interventions", { title: form.title.value });
    form.reset();
  } catch (error) {
    alertError(error);
  }
}

// ----------------------------------------------------------------- analytics
const sum = (counts) => Object.values(counts || {}).reduce((a, b) => a + b, 0);

function setCard(metric, value, sub) {
  const card = document.querySelector(`.card[data-metric="${metric}"]`);
  card.querySelector(".value").textContent = String(value);
  const subEl = card.querySelector(".sub");
  if (subEl) subEl.textContent = sub || "";
}

function renderAnalytics(snapshot) {
  const t = snapshot.totals;
  setCard("open_alerts", t.open_alerts, `${t.unacknowledged_alerts} not acknowledged`);
  setCard("open_interventions", t.open_interventions, `${t.interventions_in_progress} in progress`);
  setCard("events_24h", sum(t.events_24h),
    Object.entries(t.events_24h).filter(([, n]) => n).map(([k, n]) => `${k} ${n}`).join(" · "));
  setCard("engagements", t.engagements);
  setCard("interactions", t.interactions);
  setCard("connections", sum(t.connections),
    Object.entries(t.connections).map(([ns, n]) => `${ns} ${n}`).join(" · "));
  $("#generated-at").textContent = shortTime(snapshot.generated_at);

  state.tenantNames = new Map(snapshot.tenants.map((row) => [row.tenant_id, row.name]));
  const panel = $("#tenants-panel");
  panel.hidden = snapshot.scope !== "msp";
  $("#tenant-rows").replaceChildren(
    ...snapshot.tenants.map((row) =>
      h("tr", { "data-tenant-id": row.tenant_id },
        h("td", {}, row.name),
        h("td", {}, row.open_alerts),
        h("td", {}, row.open_interventions),
        h("td", {}, sum(row.events_24h)),
        h("td", {}, sum(row.connections)))),
  );
}

function renderMetrics(data, envelope) {
  const list = $("#metrics");
  const tenant = tenantLabel(envelope.tenant_id);
  list.replaceChildren(
    ...(tenant ? [h("dt", {}, "tenant"), h("dd", {}, tenant)] : []),
    ...Object.entries(data.metrics || {}).flatMap(([key, value]) => [
      h("dt", {}, key),
      h("dd", { "data-metric-key": key }, typeof value === "object" ? JSON.stringify(value) : value),
    ]),
  );
}

// ---------------------------------------------------------------------- boot
$("#login-form").addEventListener("submit", login);
$("#logout").addEventListener("click", logout);
$("#intervention-form").addEventListener("submit", addIntervention);
if (state.token) start();
