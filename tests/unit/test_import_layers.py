"""The webapp's modules import each other without cycles, in layers.

Read from the source (ast): every import, the ones inside functions and under
``TYPE_CHECKING`` included, is an edge between webapp modules. A cycle is a
design smell the code once hid with function-level imports; services must not
depend on the socket layer above them (``webapp.realtime``).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "webapp"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def webapp_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((ROOT / PACKAGE).rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> dict[str, int]:
    """webapp modules ``name`` imports -> the line of the first such import."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text())):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")
                parent = parent[: len(parent) - (node.level - 1)]
                base = ".".join(parent + ([base] if base else []))
            # "from pkg import mod" imports the module pkg.mod
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        for target in targets:
            if target in known and target != name:
                found.setdefault(target, node.lineno)
    return found


def import_graph() -> tuple[dict[str, dict[str, int]], dict[str, Path]]:
    modules = webapp_modules()
    known = set(modules)
    graph = {name: imports_of(name, path, known) for name, path in modules.items()}
    return graph, modules


def find_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def describe(group: list[str], graph: dict[str, dict[str, int]], paths: dict) -> str:
    members = set(group)
    edges = [
        f"  {paths[a].relative_to(ROOT)}:{line} imports {b}"
        for a in group
        for b, line in sorted(graph[a].items())
        if b in members
    ]
    return "cycle among " + ", ".join(group) + "\n" + "\n".join(edges)


def test_no_import_cycles_between_webapp_modules() -> None:
    """Deferred and TYPE_CHECKING imports count: no cycle is hidden."""
    graph, paths = import_graph()
    cycles = find_cycles(graph)
    assert not cycles, "\n".join(describe(group, graph, paths) for group in cycles)


def test_services_never_import_the_socket_layer() -> None:
    """services sit below realtime: the namespaces call them, never the reverse."""
    graph, paths = import_graph()
    wrong = [
        f"{paths[a].relative_to(ROOT)}:{line} imports {b}"
        for a, targets in graph.items()
        if a.startswith("webapp.services")
        for b, line in targets.items()
        if b.startswith("webapp.realtime")
    ]
    assert not wrong, "\n".join(wrong)


def test_the_engine_seam_depends_on_no_feature_code() -> None:
    """webapp.engine sits below services and realtime: it imports neither."""
    graph, paths = import_graph()
    wrong = [
        f"{paths[a].relative_to(ROOT)}:{line} imports {b}"
        for a, targets in graph.items()
        if a.startswith("webapp.engine")
        for b, line in targets.items()
        if b.startswith(("webapp.realtime", "webapp.services", "webapp.api"))
    ]
    assert not wrong, "\n".join(wrong)


def test_the_cycle_finder_finds_cycles() -> None:
    """A deferred import closing a loop is reported."""
    graph = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}, "d": {"a": 4}}
    assert find_cycles(graph) == [["a", "b", "c"]]
