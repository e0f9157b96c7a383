// Switchboard live dashboard: small ES modules, no build step.
// Logs in over REST and opens /dashboard, /events and /system with the official
// socket.io-client (served by Flask from node_modules); each socket keeps the last
// event id it has seen so that a reconnect asks the server to replay what it
// missed. Charts come from the event log on load and follow live events.
import { initCharts } from "./dash/charts.js";
import { $, api, clearSession, dateTime, h, saveTokens, scoped, session } from "./dash/core.js";
import { startEventsPanel } from "./dash/events_panel.js";
import {
  filters, initFilters, matchesSeverity, matchesStatus, matchesTenant, onFiltersChange, setTenantOptions,
} from "./dash/filters.js";
import { loadHistory } from "./dash/history.js";
import { pollSessions, startSessionsPanel, stopSessionsPanel } from "./dash/sessions_panel.js";
import { openSocket } from "./dash/sockets.js";
import { startSystemPanel } from "./dash/system_panel.js";
import { rememberTenants, renderTenantRows, tenantLabel } from "./dash/tenants.js";
import { addEnvelope } from "./dash/timeline.js";

const FEED_LIMIT = 50;
// The roles the server lets acknowledge and resolve alerts (webapp/auth/permissions.py).
const ALERT_ACTION_ROLES = (document.body.dataset.alertActionRoles || "").split(" ");

const state = {
  sockets: [],
  alerts: new Map(), // key -> alert dict (key: alert_id, or "e<event id>" for ad-hoc)
  interventions: new Map(), // id -> intervention dict
  analyticsRoom: null, // the room of our own snapshot (an MSP also hears its clients')
  snapshot: null,
  metrics: new Map(), // tenant id -> latest metrics_update {metrics, timestamp}
  refreshTimer: null,
  started: false,
};

function setStatus(status, detail) {
  const el = $("#status");
  el.dataset.status = status;
  el.querySelector(".label").textContent = detail ? `${status} · ${detail}` : status;
  // What is on screen may be old while the main socket is away: say so.
  const stale = status === "reconnecting";
  document.body.dataset.stale = String(stale);
  $("#stale-banner").hidden = !stale;
}

const canActOnAlerts = () => ALERT_ACTION_ROLES.includes(session.user?.role);

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
    saveTokens(body.access_token, body.refresh_token);
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
  for (const socket of state.sockets) socket.disconnect();
  state.sockets = [];
  stopSessionsPanel();
  clearSession();
  $("#dashboard-view").hidden = true;
  $("#filters").hidden = true;
  $("#login-view").hidden = false;
  $("#logout").hidden = true;
  $("#who").textContent = "";
  $("#login-error").textContent = message || "";
  setStatus("offline");
  // Panels keep module state: a fresh page is the clean slate the next user needs
  // (nothing of this user's tenants stays in memory); the message survives it.
  if (state.started) {
    if (message) window.sessionStorage.setItem("sb.signout", message);
    window.location.reload();
  }
}

// ----------------------------------------------------------------- the page
function start() {
  $("#login-view").hidden = true;
  $("#dashboard-view").hidden = false;
  $("#filters").hidden = false;
  $("#logout").hidden = false;
  if (!state.started) {
    state.started = true;
    initCharts();
    initFilters();
  }
  state.sockets.push(connectDashboard(), startEventsPanel(), startSystemPanel());
  startSessionsPanel();
  loadDashboardHistory();
  loadTenants();
}

function connectDashboard() {
  return openSocket("/dashboard", {
    onStatus: setStatus,
    onConnect: () => {
      refetch(); // covers a gap the server cannot replay, and servers without replay
      pollSessions();
    },
    onRefused: (code) => stop(`Signed out: ${code}`),
    onNewId: (id) => { $("#last-event-id").textContent = String(id); },
    events: {
      welcome: (data) => {
        state.analyticsRoom = null;
        session.user = data.user || {};
        document.body.dataset.role = session.user.role || "";
        $("#who").textContent = `${session.user.name || "user"} · ${session.user.role || ""}`;
        renderAlerts();
        loadTenants();
      },
      analytics_update: (snapshot, envelope) => {
        state.analyticsRoom ??= envelope.room;
        if (envelope.room === state.analyticsRoom) {
          state.snapshot = snapshot;
          renderAnalytics();
        }
      },
      alert: (data, envelope) => received(envelope, applyAlert),
      intervention: (data, envelope) => received(envelope, applyIntervention),
      metrics_update: (data, envelope) => received(envelope, applyMetrics),
    },
  });
}

function received(envelope, apply) {
  addEnvelope(envelope);
  apply(envelope.data, envelope);
  if (apply !== applyMetrics) scheduleAnalyticsRefresh();
}

function scheduleAnalyticsRefresh() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(() => state.sockets[0]?.emit("refresh", {}, () => {}), 300);
}

async function refetch() {
  try {
    const [alerts, interventions] = await Promise.all([
      api("GET", scoped(`/api/dashboard/alerts?limit=${FEED_LIMIT}`)),
      api("GET", scoped(`/api/dashboard/interventions?limit=${FEED_LIMIT}`)),
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

// The charts and the latest metrics survive a reload: they come from the log.
async function loadDashboardHistory() {
  try {
    for (const envelope of await loadHistory("/dashboard")) {
      if (envelope.type === "metrics_update") applyMetrics(envelope.data, envelope);
    }
  } catch (error) {
    console.warn("dashboard history failed", error);
  }
}

async function loadTenants() {
  if (!session.user || session.user.role === "client") return setTenantOptions([]);
  try {
    const { tenants } = await api("GET", "/api/tenants");
    rememberTenants(tenants);
    setTenantOptions(tenants);
  } catch (error) {
    console.warn("tenants failed", error);
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
  if (!alert.alert_id || !canActOnAlerts()) return h("span");
  const change = (status) => () =>
    api("PATCH", `/api/dashboard/alerts/${alert.alert_id}`, { status }).catch((e) => window.alert(e.message));
  return h("span", { class: "actions" },
    alert.status === "open" && h("button", { class: "small", type: "button", onclick: change("acknowledged") }, "Ack"),
    alert.status !== "resolved" && h("button", { class: "small", type: "button", onclick: change("resolved") }, "Resolve"),
  );
}

function renderAlerts(freshKey) {
  const list = $("#alerts");
  const entries = [...state.alerts.entries()]
    .filter(([, a]) => matchesTenant(a.tenant_id) && matchesSeverity(a.severity) && matchesStatus(a.status))
    .sort(([, a], [, b]) => (b.created_at || "").localeCompare(a.created_at || ""));
  list.replaceChildren(
    ...entries.slice(0, FEED_LIMIT).map(([key, alert]) =>
      h("li", {
          "data-alert-id": alert.alert_id ?? key,
          "data-status": alert.status || "open",
          "data-tenant-id": alert.tenant_id,
          class: key === freshKey ? "fresh" : "",
        },
        h("span", { class: `badge ${alert.severity}` }, alert.severity),
        h("span", { class: "title" }, alert.title),
        alertActions(alert),
        h("span", { class: "detail" },
          [tenantLabel(alert.tenant_id), alert.status || "open", dateTime(alert.created_at),
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
  const items = [...state.interventions.values()].filter((item) => matchesTenant(item.tenant_id))
    .sort((a, b) => b.id - a.id);
  list.replaceChildren(
    ...items.slice(0, FEED_LIMIT).map((item) => {
      const next = NEXT_STATUS[item.status];
      const advance = () =>
        api("PATCH", `/api/dashboard/interventions/${item.id}`, { status: next[0] })
          .catch((e) => window.alert(e.message));
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
          [tenantLabel(item.tenant_id), item.assignee, item.description, dateTime(item.updated_at)]
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
    const tenantId = filters.tenant ?? session.watchTenant;
    await api("POST", "/api/dashboard/interventions", {
      title: form.title.value, ...(tenantId ? { tenant_id: tenantId } : {}),
    });
    form.reset();
  } catch (error) {
    window.alert(error.message);
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

function renderAnalytics() {
  const snapshot = state.snapshot;
  if (!snapshot) return;
  // With one tenant picked, the cards show that tenant's row.
  const row = filters.tenant && snapshot.tenants.find((r) => r.tenant_id === filters.tenant);
  const t = row || snapshot.totals;
  setCard("open_alerts", t.open_alerts, `${t.unacknowledged_alerts} not acknowledged`);
  setCard("open_interventions", t.open_interventions, `${t.interventions_in_progress} in progress`);
  setCard("events_24h", sum(t.events_24h),
    Object.entries(t.events_24h || {}).filter(([, n]) => n).map(([k, n]) => `${k} ${n}`).join(" · "));
  setCard("engagements", t.engagements);
  setCard("interactions", t.interactions);
  setCard("connections", sum(t.connections),
    Object.entries(t.connections || {}).map(([ns, n]) => `${ns} ${n}`).join(" · "));
  $("#generated-at").textContent = dateTime(snapshot.generated_at);

  rememberTenants(snapshot.tenants);
  $("#tenants-panel").hidden = snapshot.scope !== "msp";
  renderTenantRows(snapshot.tenants);
}

// --------------------------------------------------------------- metrics
function applyMetrics(data, envelope) {
  const previous = state.metrics.get(envelope.tenant_id);
  if (!previous || (previous.id ?? 0) <= (envelope.id ?? 0)) {
    state.metrics.set(envelope.tenant_id, { id: envelope.id, metrics: data.metrics || {}, at: envelope.timestamp });
  }
  renderMetrics();
}

// The latest reading of each tenant (not just whichever tenant spoke last).
function renderMetrics() {
  const shown = [...state.metrics.entries()].filter(([tenantId]) => matchesTenant(tenantId));
  const list = $("#metrics");
  list.replaceChildren(...shown.flatMap(([tenantId, latest]) => [
    h("dt", { class: "metrics-head", "data-tenant-id": tenantId },
      [tenantLabel(tenantId), dateTime(latest.at)].filter(Boolean).join(" · ")),
    h("dd", { class: "metrics-head" }),
    ...Object.entries(latest.metrics).flatMap(([key, value]) => [
      h("dt", {}, key),
      h("dd", { "data-metric-key": key, "data-tenant-id": tenantId },
        typeof value === "object" ? JSON.stringify(value) : value),
    ]),
  ]));
  if (!shown.length) list.append(h("dt", {}, "–"), h("dd", {}, "waiting for metrics_update"));
}

// ---------------------------------------------------------------------- boot
$("#login-form").addEventListener("submit", login);
$("#logout").addEventListener("click", logout);
$("#intervention-form").addEventListener("submit", addIntervention);
onFiltersChange(() => {
  renderAlerts();
  renderInterventions();
  renderAnalytics();
  renderMetrics();
});
$("#login-error").textContent = window.sessionStorage.getItem("sb.signout") || "";
window.sessionStorage.removeItem("sb.signout");
if (session.token) start();
