// The three trend charts (Chart.js, served from node_modules): alerts raised by
// severity, security events by severity with detections, and metric readings.
// Each canvas carries data-total (points drawn) so a test can see it move.
import { $ } from "./core.js";
import { SEVERITIES, matchesSeverity, matchesTenant, onFiltersChange } from "./filters.js";
import { tenantLabel } from "./tenants.js";
import {
  bucketIndex, bucketStarts, onTimelineChange, pointsIn, setRange, tick, view,
} from "./timeline.js";

const { Chart } = window;
export const COLORS = {
  info: "#8a8f99", low: "#3aa0c8", medium: "#d98a00", high: "#e4572e", critical: "#a3182b",
};
const LINE_COLORS = ["#2f6fed", "#1f9d55", "#d98a00", "#a34fd6", "#e4572e", "#3aa0c8", "#687083", "#c2185b"];
const MAX_METRIC_SERIES = 8;

const charts = {};

function bucketLabel(start) {
  const date = new Date(start);
  const time = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return view.range === "day" ? `${date.toLocaleDateString([], { day: "2-digit", month: "short" })} ${time}` : time;
}

function makeChart(canvas, type, stacked) {
  return new Chart(canvas, {
    type,
    data: { labels: [], datasets: [] },
    options: {
      animation: false,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { position: "bottom", labels: { boxWidth: 10, font: { size: 11 } } } },
      scales: {
        x: { stacked, ticks: { maxRotation: 0, autoSkipPadding: 12, font: { size: 10 } } },
        y: { stacked, beginAtZero: true, ticks: { precision: 0, font: { size: 10 } } },
      },
    },
  });
}

function countBySeverity(kind, starts) {
  const shown = pointsIn(kind, starts, (p) => matchesTenant(p.tenant) && matchesSeverity(p.severity));
  const rows = Object.fromEntries(SEVERITIES.map((s) => [s, new Array(starts.length).fill(0)]));
  for (const point of shown) rows[point.severity in rows ? point.severity : "info"][bucketIndex(point.t, starts)] += 1;
  return { shown, rows };
}

function severityDatasets(rows) {
  return SEVERITIES.filter((s) => rows[s].some(Boolean)).map((s) => ({
    label: s, data: rows[s], backgroundColor: COLORS[s], stack: "severity",
  }));
}

function drawAlerts(starts, labels) {
  const { shown, rows } = countBySeverity("alerts", starts);
  update("alerts", labels, severityDatasets(rows), shown.length);
}

function drawSecurity(starts, labels) {
  const { shown, rows } = countBySeverity("security", starts);
  const detections = pointsIn("detections", starts, (p) => matchesTenant(p.tenant));
  const perBucket = new Array(starts.length).fill(0);
  for (const point of detections) perBucket[bucketIndex(point.t, starts)] += 1;
  const datasets = severityDatasets(rows);
  if (detections.length) {
    datasets.push({
      type: "line", label: "detections", data: perBucket, borderColor: "#2f6fed",
      backgroundColor: "#2f6fed", pointRadius: 0, borderWidth: 2, tension: 0.3,
    });
  }
  update("security", labels, datasets, shown.length + detections.length);
}

// One line per metric key (per tenant·key when several tenants report); the
// last reading in each bucket.
function drawMetrics(starts, labels) {
  const shown = pointsIn("metrics", starts, (p) => matchesTenant(p.tenant));
  const tenants = new Set(shown.map((p) => p.tenant));
  const series = new Map();
  for (const point of shown) {
    const name = tenants.size > 1 ? `${tenantLabel(point.tenant) ?? point.tenant} · ${point.key}` : point.key;
    if (!series.has(name)) {
      if (series.size >= MAX_METRIC_SERIES) continue;
      series.set(name, new Array(starts.length).fill(null));
    }
    series.get(name)[bucketIndex(point.t, starts)] = point.value;
  }
  const datasets = [...series.entries()].map(([label, data], i) => ({
    label, data, borderColor: LINE_COLORS[i % LINE_COLORS.length],
    backgroundColor: LINE_COLORS[i % LINE_COLORS.length], spanGaps: true,
    pointRadius: 2, borderWidth: 2, tension: 0.25,
  }));
  update("metrics", labels, datasets, shown.length);
}

function update(name, labels, datasets, total) {
  const chart = charts[name];
  chart.data.labels = labels;
  chart.data.datasets = datasets;
  chart.update("none");
  chart.canvas.dataset.total = String(total);
  chart.canvas.closest(".chart").classList.toggle("no-data", total === 0);
}

function drawAll() {
  const starts = bucketStarts();
  const labels = starts.map(bucketLabel);
  drawAlerts(starts, labels);
  drawSecurity(starts, labels);
  drawMetrics(starts, labels);
}

export function initCharts() {
  charts.alerts = makeChart($("#chart-alerts"), "bar", true);
  charts.security = makeChart($("#chart-security"), "bar", true);
  charts.metrics = makeChart($("#chart-metrics"), "line", false);
  onTimelineChange(drawAll);
  onFiltersChange(drawAll);
  for (const button of document.querySelectorAll("#range button")) {
    button.addEventListener("click", () => {
      for (const other of document.querySelectorAll("#range button")) {
        other.setAttribute("aria-pressed", String(other === button));
      }
      setRange(button.dataset.range);
    });
  }
  setInterval(tick, 30_000); // the buckets slide with the clock
  drawAll();
}

// A tiny line without axes for the GPU cards.
export function sparkline(canvas, color, max) {
  return new Chart(canvas, {
    type: "line",
    data: {
      labels: [],
      datasets: [{
        data: [], borderColor: color, backgroundColor: color, borderWidth: 1.5, tension: 0.3, fill: false,
        // Only the newest reading gets a dot: a first reading is visible on its own.
        pointRadius: (ctx) => (ctx.dataIndex === ctx.dataset.data.length - 1 ? 2.5 : 0),
      }],
    },
    options: {
      animation: false, maintainAspectRatio: false, events: [],
      plugins: { legend: { display: false }, tooltip: { enabled: false } },
      scales: { x: { display: false }, y: { display: false, min: 0, suggestedMax: max } },
    },
  });
}
