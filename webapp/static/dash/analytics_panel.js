// The analytics cards, the per-tenant table, and the latest metrics of each tenant.
import { $, dateTime, h } from "./core.js";
import { filters, matchesTenant } from "./filters.js";
import { rememberTenants, renderTenantRows, tenantLabel } from "./tenants.js";

let latestSnapshot = null;
const metrics = new Map(); // tenant id -> latest metrics_update {id, metrics, at}

export function setSnapshot(snapshot) {
  latestSnapshot = snapshot;
  renderAnalytics();
}

const sum = (counts) => Object.values(counts || {}).reduce((a, b) => a + b, 0);

function setCard(metric, value, sub) {
  const card = document.querySelector(`.card[data-metric="${metric}"]`);
  card.querySelector(".value").textContent = String(value);
  const subEl = card.querySelector(".sub");
  if (subEl) subEl.textContent = sub || "";
}

export function renderAnalytics() {
  const snapshot = latestSnapshot;
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
export function applyMetrics(data, envelope) {
  const previous = metrics.get(envelope.tenant_id);
  if (!previous || (previous.id ?? 0) <= (envelope.id ?? 0)) {
    metrics.set(envelope.tenant_id, { id: envelope.id, metrics: data.metrics || {}, at: envelope.timestamp });
  }
  renderMetrics();
}

// The latest reading of each tenant (not just whichever tenant spoke last).
export function renderMetrics() {
  const shown = [...metrics.entries()].filter(([tenantId]) => matchesTenant(tenantId));
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
