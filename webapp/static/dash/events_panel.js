// The /events panel: latest security events and detections of the viewer's
// tenants, and the AI agent runs of the viewer (every user's for an admin's
// history), each with its steps.
import { $, dateTime, h, session } from "./core.js";
import { filters, matchesSeverity, matchesTenant, onFiltersChange } from "./filters.js";
import { loadHistory } from "./history.js";
import { markStale, openSocket } from "./sockets.js";
import { tenantLabel } from "./tenants.js";
import { addEnvelope } from "./timeline.js";

const SHOWN = 25;
const AGENT_EVENTS = [
  "agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed", "agent_error",
];
const items = new Map(); // event-log id -> {type, data, envelope}
const severityOf = new Map(); // security event record id -> severity (for its detections)
const runs = new Map(); // run id -> {runId, room, tenant, status, steps}
const applied = new Set(); // event-log ids, live or from the history

function receive(data, envelope) {
  if (applied.has(envelope.id)) return;
  applied.add(envelope.id);
  if (envelope.type === "new_event" || envelope.type === "detection") {
    items.set(envelope.id, { type: envelope.type, data, envelope });
    if (envelope.type === "new_event") severityOf.set(data.id, data.severity);
    addEnvelope(envelope);
    renderSecurity(envelope.id);
  } else if (AGENT_EVENTS.includes(envelope.type)) {
    applyAgentEvent(data, envelope);
    renderRuns();
  }
}

function itemSeverity(item) {
  return item.type === "new_event" ? item.data.severity : severityOf.get(item.data.event_id);
}

function describe(item) {
  const d = item.data;
  if (item.type === "new_event") return [d.summary, [d.source, d.camera_id].filter(Boolean).join(" · ")];
  const confidence = typeof d.confidence === "number" ? `${Math.round(d.confidence * 100)}%` : "";
  return [`Detection: ${d.label} ${confidence}`.trim(), d.event_id ? `on event ${d.event_id}` : ""];
}

function renderSecurity(freshId) {
  const shown = [...items.values()]
    .filter((item) => matchesTenant(item.envelope.tenant_id))
    .filter((item) => !filters.severity || matchesSeverity(itemSeverity(item)))
    .sort((a, b) => b.envelope.id - a.envelope.id)
    .slice(0, SHOWN);
  const list = $("#security-feed");
  list.replaceChildren(...shown.map((item) => {
    const [title, detail] = describe(item);
    const severity = itemSeverity(item);
    return h("li", {
        "data-event-id": item.envelope.id,
        "data-kind": item.type,
        "data-tenant-id": item.envelope.tenant_id,
        class: item.envelope.id === freshId ? "fresh" : "",
      },
      h("span", { class: `badge ${severity || "detection"}` }, item.type === "detection" ? "detection" : severity),
      h("span", { class: "title" }, title),
      h("span", {}),
      h("span", { class: "detail" },
        [tenantLabel(item.envelope.tenant_id), detail, dateTime(item.data.occurred_at || item.envelope.timestamp)]
          .filter(Boolean).join(" · ")));
  }));
  if (!shown.length) list.append(h("li", { class: "empty" }, "No security events."));
}

// ------------------------------------------------------------------ agent runs
function stepText(type, data) {
  if (type === "agent_thinking") return data.thought;
  if (type === "tool_executing" || type === "tool_completed") return data.tool || data.name || "";
  if (type === "agent_error") return data.message;
  if (type === "agent_started") return data.name || data.task || "";
  return data.summary || data.result || "";
}

function applyAgentEvent(data, envelope) {
  const run = runs.get(data.run_id) ?? {
    runId: data.run_id, room: envelope.room, tenant: envelope.tenant_id, status: "running", steps: [],
  };
  run.steps.push({ seq: data.seq, type: envelope.type, text: stepText(envelope.type, data), at: envelope.timestamp });
  run.steps.sort((a, b) => a.seq - b.seq);
  if (envelope.type === "agent_completed") run.status = "completed";
  if (envelope.type === "agent_error") run.status = "failed";
  runs.set(data.run_id, run);
}

function userLabel(room) {
  const userId = Number(String(room).split(":")[1]);
  return userId === session.user?.id ? "You" : `User ${userId}`;
}

function renderRuns() {
  const byUser = new Map();
  const sorted = [...runs.values()]
    .filter((run) => matchesTenant(run.tenant))
    .sort((a, b) => (a.status === "running" ? 0 : 1) - (b.status === "running" ? 0 : 1) || b.runId - a.runId)
    .slice(0, 12);
  for (const run of sorted) {
    if (!byUser.has(run.room)) byUser.set(run.room, []);
    byUser.get(run.room).push(run);
  }
  const box = $("#agent-runs");
  box.replaceChildren(...[...byUser.entries()].map(([room, userRuns]) =>
    h("div", { class: "run-user", "data-user-room": room },
      h("h3", {}, userLabel(room)),
      ...userRuns.map((run) =>
        h("details", { class: "run", "data-run-id": run.runId, "data-status": run.status, open: run.status === "running" },
          h("summary", {},
            h("span", { class: `badge ${run.status}` }, run.status),
            ` Run ${run.runId} · ${run.steps.length} step${run.steps.length === 1 ? "" : "s"}`),
          h("ol", { class: "steps" },
            ...run.steps.map((step) =>
              h("li", { "data-seq": step.seq },
                h("span", { class: "step-type" }, step.type.replace("_", " ")),
                ` ${step.text || ""}`,
                h("span", { class: "detail" }, ` ${dateTime(step.at)}`)))))))));
  if (!sorted.length) box.append(h("p", { class: "empty" }, "No agent runs."));
}

async function loadRecent() {
  try {
    for (const envelope of await loadHistory("/events")) receive(envelope.data, envelope);
  } catch (error) {
    console.warn("events history failed", error);
  }
}

export function startEventsPanel() {
  const panel = $("#events-panel");
  let loaded = false;
  const handler = (data, envelope) => receive(data, envelope);
  const socket = openSocket("/events", {
    events: Object.fromEntries(["new_event", "detection", ...AGENT_EVENTS].map((name) => [name, handler])),
    onStatus: (status) => markStale(panel, status),
    onConnect: () => {
      if (!loaded) {
        loaded = true;
        loadRecent();
      }
    },
  });
  onFiltersChange(() => {
    renderSecurity();
    renderRuns();
  });
  renderSecurity();
  renderRuns();
  return socket;
}
