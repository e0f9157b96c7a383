// Tenant names and per-tenant health (MSP staff and admins), from the analytics
// snapshot and the camera states the /system panel reports.
import { $, h } from "./core.js";
import { filters } from "./filters.js";

const names = new Map(); // tenant id -> name
const offlineCameras = new Map(); // tenant id -> cameras not online
let lastRows = [];

export function rememberTenants(tenants) {
  for (const tenant of tenants) names.set(tenant.id ?? tenant.tenant_id, tenant.name);
}

// Say which tenant an item belongs to when the viewer sees several.
export function tenantLabel(tenantId) {
  return names.size > 1 ? names.get(tenantId) : undefined;
}

export function setOfflineCameras(counts) {
  offlineCameras.clear();
  for (const [tenantId, count] of counts) offlineCameras.set(tenantId, count);
  renderTenantRows(lastRows);
}

const sum = (counts) => Object.values(counts || {}).reduce((a, b) => a + b, 0);

// alerting: an alert nobody has acknowledged; attention: open work or a camera
// down; healthy otherwise.
export function tenantHealth(row) {
  if (row.unacknowledged_alerts > 0) return "alerting";
  if (row.open_alerts > 0 || row.open_interventions > 0) return "attention";
  if ((offlineCameras.get(row.tenant_id) || 0) > 0) return "attention";
  return "healthy";
}

export function renderTenantRows(rows) {
  lastRows = rows;
  $("#tenant-rows").replaceChildren(
    ...rows.map((row) => {
      const health = tenantHealth(row);
      return h("tr", {
          "data-tenant-id": row.tenant_id,
          "data-health": health,
          class: filters.tenant === row.tenant_id ? "selected" : "",
        },
        // data-label: at phone width each row becomes a small card of label: value.
        h("td", { "data-label": "Tenant", class: "name" }, row.name),
        h("td", { "data-label": "Health" }, h("span", { class: `health ${health}` }, health)),
        h("td", { "data-label": "Alerts" }, row.open_alerts),
        h("td", { "data-label": "Interventions" }, row.open_interventions),
        h("td", { "data-label": "Events 24 h" }, sum(row.events_24h)),
        h("td", { "data-label": "Cameras down" }, offlineCameras.get(row.tenant_id) || 0),
        h("td", { "data-label": "Connections" }, sum(row.connections)));
    }),
  );
}
