// Points over time for the charts: alerts raised, security events, detections
// and metric readings, from the history on load and live afterwards. Each event
// id is kept once; the charts bucket them for the last hour or the last day.
const MAX_POINTS = 20000; // per kind: a day of a busy tenant, bounded
const points = { alerts: [], security: [], detections: [], metrics: [] };
const seen = new Set();
const listeners = [];

export const RANGES = {
  hour: { buckets: 60, step: 60_000 },
  day: { buckets: 24, step: 3_600_000 },
};
export const view = { range: "hour" };

export function onTimelineChange(listener) {
  listeners.push(listener);
}

let scheduled = false;
function changed() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    for (const listener of listeners) listener();
  });
}

// point: {id, t (ms), tenant, severity?, key?, value?}
export function addPoint(kind, point) {
  const key = point.id === null || point.id === undefined ? null : `${kind}:${point.id}`;
  if (key) {
    if (seen.has(key)) return;
    seen.add(key);
  }
  const list = points[kind];
  list.push(point);
  if (list.length > MAX_POINTS) list.splice(0, list.length - MAX_POINTS);
  changed();
}

// Turn one history or live envelope into chart points.
export function addEnvelope(envelope) {
  const t = Date.parse(envelope.timestamp) || Date.now();
  const base = { id: envelope.id, t, tenant: envelope.tenant_id };
  const data = envelope.data || {};
  if (envelope.type === "alert") {
    // An alert is re-sent on each status change: count it when raised only.
    if ((data.status || "open") === "open") addPoint("alerts", { ...base, severity: data.severity });
  } else if (envelope.type === "new_event") {
    addPoint("security", { ...base, severity: data.severity });
  } else if (envelope.type === "detection") {
    addPoint("detections", base);
  } else if (envelope.type === "metrics_update") {
    for (const [key, value] of Object.entries(data.metrics || {})) {
      if (typeof value === "number" && Number.isFinite(value)) {
        addPoint("metrics", { ...base, id: `${envelope.id}:${key}`, key, value });
      }
    }
  }
}

// The bucket starts of the current range, oldest first, the last one holding now.
export function bucketStarts(now = Date.now()) {
  const { buckets, step } = RANGES[view.range];
  const last = Math.floor(now / step) * step;
  return Array.from({ length: buckets }, (_, i) => last - (buckets - 1 - i) * step);
}

export function pointsIn(kind, starts, keep) {
  const { step } = RANGES[view.range];
  const from = starts[0];
  const to = starts[starts.length - 1] + step;
  return points[kind].filter((p) => p.t >= from && p.t < to && keep(p));
}

export function bucketIndex(t, starts) {
  return Math.floor((t - starts[0]) / RANGES[view.range].step);
}

export function setRange(range) {
  view.range = range;
  changed();
}

export function tick() {
  changed();
}
