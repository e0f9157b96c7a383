// The interventions list: start / done, and a form to add one (to the tenant
// picked in the filter, or the admin's watched tenant).
import { $, api, dateTime, h, session } from "./core.js";
import { filters, matchesTenant } from "./filters.js";
import { FEED_LIMIT, isNewer } from "./alerts_panel.js";
import { tenantLabel } from "./tenants.js";

let interventions = new Map(); // id -> intervention dict

export function setInterventions(list) {
  interventions = new Map(list.map((item) => [item.id, item]));
  renderInterventions();
}

const NEXT_STATUS = { open: ["in_progress", "Start"], in_progress: ["done", "Done"] };

export function applyIntervention(data) {
  const item = data.intervention;
  if (isNewer(item, interventions.get(item.id))) interventions.set(item.id, item);
  renderInterventions(item.id);
}

export function renderInterventions(freshId) {
  const list = $("#interventions");
  const items = [...interventions.values()].filter((item) => matchesTenant(item.tenant_id))
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

export async function addIntervention(event) {
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
