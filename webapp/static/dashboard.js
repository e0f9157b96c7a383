// Switchboard live dashboard: small ES modules, no build step.
// Logs in over REST and opens /dashboard, /events and /system with the official
// socket.io-client (served by Flask from node_modules); each socket keeps the last
// event id it has seen so that a reconnect asks the server to replay what it
// missed. Charts come from the event log on load and follow live events.
import { applyAlert, FEED_LIMIT, renderAlerts, setAlerts } from "./dash/alerts_panel.js";
import { applyMetrics, renderAnalytics, renderMetrics, setSnapshot } from "./dash/analytics_panel.js";
import { initCharts } from "./dash/charts.js";
import { $, api, clearSession, saveTokens, scoped, session } from "./dash/core.js";
import { startEventsPanel } from "./dash/events_panel.js";
import { initFilters, onFiltersChange, refreshPanels, setTenantOptions } from "./dash/filters.js";
import { loadHistory } from "./dash/history.js";
import {
  addIntervention, applyIntervention, renderInterventions, setInterventions,
} from "./dash/interventions_panel.js";
import { pollSessions, startSessionsPanel, stopSessionsPanel } from "./dash/sessions_panel.js";
import { openSocket } from "./dash/sockets.js";
import { startSystemPanel } from "./dash/system_panel.js";
import { rememberTenants } from "./dash/tenants.js";
import { addEnvelope } from "./dash/timeline.js";

const state = {
  sockets: [], // /dashboard first, then /events and /system
  analyticsRoom: null, // the room of our own snapshot (an MSP also hears its clients')
  refreshTimer: null,
  panelsTimer: null,
  panelsStarted: false,
  wasConnected: false,
  started: false,
};

function setStatus(status, detail) {
  const el = $("#status");
  el.dataset.status = status;
  el.querySelector(".label").textContent = detail ? `${status} · ${detail}` : status;
  // What is on screen may be old while the main socket is away: say so (not
  // before the first connect, when there is nothing on screen yet).
  if (status === "connected") state.wasConnected = true;
  const stale = status === "reconnecting" && state.wasConnected;
  document.body.dataset.stale = String(stale);
  $("#stale-banner").hidden = !stale;
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
  state.sockets.push(connectDashboard());
  // Fallback: the panels start even if no snapshot comes (see startPanels).
  state.panelsTimer = setTimeout(startPanels, 3000);
  startSessionsPanel();
  loadDashboardHistory();
  loadTenants();
}

// /events and /system open once /dashboard has sent its first snapshot, so that
// snapshot counts this page's connections the same way every time (one on
// /dashboard) instead of racing the other namespaces' connects.
function startPanels() {
  clearTimeout(state.panelsTimer);
  if (state.panelsStarted || !state.sockets.length) return;
  state.panelsStarted = true;
  state.sockets.push(startEventsPanel(), startSystemPanel());
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
        if (envelope.room === state.analyticsRoom) setSnapshot(snapshot);
        startPanels();
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
    setAlerts(alerts.alerts);
    setInterventions(interventions.interventions);
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
    refreshPanels(); // items drawn before the names were known get their tenant label
  } catch (error) {
    console.warn("tenants failed", error);
  }
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
