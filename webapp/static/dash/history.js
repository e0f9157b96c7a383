// Fill the charts from the event log (GET /api/events) for the last day, so a
// reload shows the trends at once; live events continue from there.
import { api, scoped } from "./core.js";
import { addEnvelope } from "./timeline.js";

const PAGE = 1000;
const MAX_PAGES = 20; // a day of a busy tenant; beyond that the charts start later

// Returns the envelopes too, for the panels that list the latest items.
export async function loadHistory(namespace) {
  const found = [];
  const since = new Date(Date.now() - 86_400_000).toISOString();
  let sinceId = 0;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const query = new URLSearchParams({ namespace, since, limit: String(PAGE) });
    if (sinceId) query.set("since_id", String(sinceId));
    const body = await api("GET", scoped(`/api/events?${query}`));
    for (const envelope of body.events) addEnvelope(envelope);
    found.push(...body.events);
    if (body.events.length < PAGE) return found;
    sinceId = body.events[body.events.length - 1].id;
  }
  return found;
}
