// The page's filters: tenant (MSP staff and admins), minimum severity, alert
// status. Every panel and chart asks these before showing an item and re-renders
// when they change.
import { $, h, session, setWatchTenant } from "./core.js";

export const SEVERITIES = ["info", "low", "medium", "high", "critical"];
const listeners = [];
export const filters = { tenant: null, severity: "", status: "" };

export function onFiltersChange(listener) {
  listeners.push(listener);
}

// Re-render every panel: after a filter change, or once tenant names are known.
export function refreshPanels() {
  for (const listener of listeners) listener();
}

export const matchesTenant = (tenantId) => !filters.tenant || tenantId === filters.tenant;
export const matchesSeverity = (severity) =>
  !filters.severity || SEVERITIES.indexOf(severity) >= SEVERITIES.indexOf(filters.severity);
export const matchesStatus = (status) => !filters.status || (status || "open") === filters.status;

export function initFilters() {
  $("#filter-severity").addEventListener("change", (event) => {
    filters.severity = event.target.value;
    refreshPanels();
  });
  $("#filter-status").addEventListener("change", (event) => {
    filters.status = event.target.value;
    refreshPanels();
  });
  $("#filter-tenant").addEventListener("change", (event) => {
    const tenantId = Number(event.target.value) || null;
    if (session.user?.role === "admin") {
      // An admin's sockets carry the watched tenant at connect: start again with it.
      setWatchTenant(tenantId);
      window.location.reload();
      return;
    }
    filters.tenant = tenantId;
    refreshPanels();
  });
  if (session.watchTenant) filters.tenant = session.watchTenant;
}

// MSP staff and admins pick a tenant; a client has only its own.
export function setTenantOptions(tenants) {
  const select = $("#filter-tenant");
  const shown = session.user?.role === "msp" || session.user?.role === "admin";
  $("#filter-tenant-label").hidden = !shown;
  if (!shown) return;
  select.replaceChildren(
    h("option", { value: "" }, session.user.role === "admin" ? "My tenants" : "All tenants"),
    ...tenants.map((tenant) =>
      h("option", { value: tenant.id, selected: tenant.id === filters.tenant }, tenant.name)),
  );
}
