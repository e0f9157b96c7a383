// Engagement sessions with their live participants. Presence events go only to
// a session's own room, and joining it would make the viewer a participant, so
// the panel reads GET /api/sessions (live participants, cluster-wide) on an
// interval instead.
import { $, api, h, scoped } from "./core.js";
import { matchesTenant, onFiltersChange } from "./filters.js";
import { tenantLabel } from "./tenants.js";

const POLL_MS = 5000;
let sessions = [];
let timer = null;

function render() {
  const shown = sessions.filter((s) => matchesTenant(s.tenant_id));
  const list = $("#session-list");
  list.replaceChildren(...shown.map((s) =>
    h("li", { "data-session-id": s.id, "data-count": s.count, "data-tenant-id": s.tenant_id },
      h("span", { class: `badge ${s.count ? "live" : ""}` }, `${s.count} live`),
      h("span", { class: "title" }, s.title),
      h("span", {}),
      h("span", { class: "detail participants" },
        [tenantLabel(s.tenant_id), (s.participants || []).map((p) => p.name).join(", ") || "nobody"]
          .filter(Boolean).join(" · ")))));
  if (!shown.length) list.append(h("li", { class: "empty" }, "No sessions."));
}

export async function pollSessions() {
  clearTimeout(timer);
  try {
    sessions = (await api("GET", scoped("/api/sessions"))).sessions;
    render();
    $("#sessions-panel").dataset.stale = "false";
  } catch (error) {
    $("#sessions-panel").dataset.stale = "true";
  }
  clearTimeout(timer); // another poll may have finished meanwhile: keep one timer
  timer = setTimeout(pollSessions, POLL_MS);
}

export function startSessionsPanel() {
  onFiltersChange(render);
  pollSessions();
}

export function stopSessionsPanel() {
  clearTimeout(timer);
}
