"""docs/prometheus-alerts.yml and docs/grafana-dashboard.json against a live /metrics.

Both files are parsed (YAML, JSON); every metric name in every expression must be
a series this server exports, so a renamed metric breaks the test, not the pager.
"""

from __future__ import annotations

import json
import re
from typing import Any

import requests
import yaml

from tests.support.ops import scrape
from tests.support.server import ROOT
from tests.support.sockets import SocketFactory, connect_refusal, resume
from tests.support.world import World, publish_alerts

ALERTS = ROOT / "docs" / "prometheus-alerts.yml"
DASHBOARD = ROOT / "docs" / "grafana-dashboard.json"
# Series Prometheus makes itself when it scrapes a target.
SCRAPE_SERIES = {"up"}
PROMQL_WORDS = {"and", "or", "unless", "by", "without", "bool", "offset", "on"}
SEVERITIES = {"critical", "warning", "info"}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression (or Grafana label_values) reads."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # label values, regexes
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # range durations
    # Label lists of by/without/on/ignoring/group_left/group_right.
    text = re.sub(
        r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text
    )
    text = re.sub(r"\b\d+(\.\d+)?([eE][+-]?\d+)?\b", " ", text)  # numbers
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        rest = text[match.end() :].lstrip()
        if rest.startswith("("):
            continue  # a function
        if match.group() in PROMQL_WORDS:
            continue
        names.add(match.group())
    # label_values(metric, label): the label is not a metric.
    for call in re.finditer(r"label_values\(\s*([A-Za-z_:][\w:]*)\s*,\s*(\w+)", expr):
        names.discard(call.group(2))
        names.add(call.group(1))
    return names


def exported_series(world: World, sockets: SocketFactory) -> set[str]:
    """Sample names on /metrics once every kind of traffic has happened."""
    first, *_ = publish_alerts(world.url, world.key_a, world.tenant_a["id"], 2, "rule")
    client, _complete = resume(sockets, world.url, world.user_a.access_token, first)
    client.call("no_such_event", {})  # a client event (refused: still counted)
    connect_refusal(world.url, {"token": "not-a-token"})
    requests.post(
        world.url + "/api/auth/login",
        json={"email": world.user_b.email, "password": "wrong"},
        timeout=10,
    )
    return {
        sample.name
        for family in scrape(world.url).values()
        for sample in family.samples
    }


def test_metric_names_are_read_from_promql() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (le, namespace) (rate(a_bucket{x=~"b|c"}'
        "[5m]))) / on (instance) group_left(process) b_total > 1e9 and time() - c"
    )
    assert metric_names(expr) == {"a_bucket", "b_total", "c"}
    assert metric_names("label_values(info, instance)") == {"info"}


def test_every_alert_rule_parses_and_reads_exported_metrics(
    world: World, sockets: SocketFactory
) -> None:
    rules = yaml.safe_load(ALERTS.read_text())
    exported = exported_series(world, sockets) | SCRAPE_SERIES
    seen = set()
    for group in rules["groups"]:
        assert group["name"] and group["rules"]
        for rule in group["rules"]:
            assert re.fullmatch(r"Switchboard[A-Za-z]+", rule["alert"]), rule
            assert rule["alert"] not in seen, rule["alert"]
            seen.add(rule["alert"])
            assert rule["labels"]["severity"] in SEVERITIES, rule["alert"]
            assert rule["annotations"]["summary"], rule["alert"]
            if "for" in rule:
                assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["alert"]
            names = metric_names(rule["expr"])
            assert names, rule["alert"]
            assert names <= exported, (rule["alert"], names - exported)
    assert len(seen) >= 10


def panel_exprs(dashboard: dict[str, Any]) -> list[str]:
    """Every query of the dashboard: panel targets and template variables."""
    exprs = [
        target["expr"] for panel in dashboard["panels"] for target in panel["targets"]
    ]
    for variable in dashboard["templating"]["list"]:
        exprs.append(variable["definition"])
    return exprs


def test_grafana_dashboard_is_importable_and_reads_exported_metrics(
    world: World, sockets: SocketFactory
) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    # Grafana's import asks for the data source named in __inputs.
    (source,) = dashboard["__inputs"]
    assert source["pluginId"] == "prometheus"
    assert dashboard["title"] and dashboard["uid"] and dashboard["panels"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${" + source["name"] + "}"
        assert panel["targets"], panel["title"]
    exported = exported_series(world, sockets)
    for expr in panel_exprs(dashboard):
        names = metric_names(expr)
        assert names and names <= exported, (expr, names - exported)
