// The alerts feed. Ack / Resolve are offered only to the roles the REST API lets
// change an alert (the server sends the set in <body data-alert-action-roles>).
import { $, api, dateTime, h, session } from "./core.js";
import { matchesSeverity, matchesStatus, matchesTenant } from "./filters.js";
import { tenantLabel } from "./tenants.js";

export const FEED_LIMIT = 50;
const ALERT_ACTION_ROLES = (document.body.dataset.alertActionRoles || "").split(" ");
const alerts = new Map(); // key -> alert dict (key: alert_id, or "e<event id>" for ad-hoc)

const canActOnAlerts = () => ALERT_ACTION_ROLES.includes(session.user?.role);

// The REST list is the truth for stored alerts; ad-hoc ones (no alert_id) stay.
export function setAlerts(list) {
  for (const [key] of alerts) if (typeof key === "number") alerts.delete(key);
  for (const alert of list) alerts.set(alert.alert_id, alert);
  renderAlerts();
}

export function isNewer(incoming, existing) {
  return !existing || !existing.updated_at || (incoming.updated_at || "") >= existing.updated_at;
}

export function applyAlert(data, envelope) {
  const key = data.alert_id ?? `e${envelope.id}`;
  const alert = {
    ...data,
    tenant_id: data.tenant_id ?? envelope.tenant_id,
    created_at: data.created_at || envelope.timestamp,
  };
  if (isNewer(alert, alerts.get(key))) alerts.set(key, alert);
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

export function renderAlerts(freshKey) {
  const list = $("#alerts");
  const entries = [...alerts.entries()]
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
