"""The engine seam is the only code that touches python-socketio/engineio internals.

``webapp/engine/`` (and, for the test clients, ``tests/support/engine_client.py``)
may override, call or read private parts of the libraries; every name it uses is
checked at the pinned versions by ``test_engine_hooks.py``. These tests read the
source (ast, no import of the code) and fail naming file:line when:

- a module outside the seam uses a private library name (``._x`` on a library
  object, ``.sockets``, ``.queue``, ``.rooms``, ``_async``, the client manager's
  connection lookups), imports a private library module, or overrides a private
  library method in a subclass;
- the seam uses a private library name that ``test_engine_hooks.py`` does not check.
"""

from __future__ import annotations

import ast
import functools
import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit import test_engine_hooks as hooks

# Importing eventlet (never monkey-patched here) warns that it is deprecated.
pytestmark = pytest.mark.filterwarnings(r"ignore:\s*Eventlet is deprecated")

ROOT = Path(__file__).resolve().parents[2]
SEAM = ("webapp/engine/", "tests/support/engine_client.py")
# The seam's own tests: they drive its overrides directly.
SEAM_TESTS = (
    "tests/unit/test_engine_hooks.py",
    "tests/unit/test_engine_seam.py",
    "tests/unit/test_delivery_once_per_process.py",
)
SCANNED = ("webapp", "tests", "bench", "wsgi.py", "config.py")

# Undocumented library attributes with public-looking names: the engine.io
# sessions, their send queues, the client manager's rooms and connection lookups.
INTERNAL_NAMES = frozenset(
    {
        "sockets",
        "queue",
        "rooms",
        "_async",
        "is_pre_connected",
        "is_connected",
        "eio_sid_from_sid",
        "sid_from_eio_sid",
        "pre_disconnect",
    }
)
# Underscore names that are public API: werkzeug's proxy, namedtuple's methods.
PUBLIC_UNDERSCORE = frozenset(
    {"_get_current_object", "_replace", "_asdict", "_fields", "_make"}
)
# Library modules meant to be imported.
PUBLIC_MODULES = frozenset(
    {
        "socketio",
        "engineio",
        "socketio.exceptions",
        "engineio.exceptions",
        "socketio.packet",
        "engineio.packet",
    }
)
# Outside-the-seam uses of INTERNAL_NAMES on objects that are not the libraries'.
NOT_LIBRARY = {
    ("bench/publish_throughput.py", "queue"),  # argparse's --queue option
}
# Library classes whose private names the seam may reach (with their bases).
LIBRARY_CLASSES = (
    "socketio.Server",
    "socketio.Manager",
    "socketio.RedisManager",
    "socketio.Client",
    "socketio.Namespace",
    "engineio.Server",
    "engineio.Client",
    "engineio.socket.Socket",
    "eventlet.websocket.RFC6455WebSocket",
    "eventlet.wsgi.HttpProtocol",
    "eventlet.greenio.GreenSocket",
    "simple_websocket.Server",
    "gevent.socket.socket",
)


def python_files() -> Iterator[tuple[str, ast.Module]]:
    """(path relative to the root, parsed module) of every scanned file."""
    for entry in SCANNED:
        path = ROOT / entry
        for file in [path] if path.is_file() else sorted(path.rglob("*.py")):
            if "node_modules" in file.parts:
                continue
            yield file.relative_to(ROOT).as_posix(), ast.parse(file.read_text())


def in_seam(rel: str) -> bool:
    return rel.startswith(SEAM) or rel in SEAM_TESTS


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def receiver_is_own(node: ast.Attribute) -> bool:
    """``self.x`` / ``cls.x``: the object's own attribute."""
    return isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")


def library_bases(cls: ast.ClassDef) -> list[str]:
    """Dotted names of the socketio/engineio classes ``cls`` derives from."""
    names = [ast.unparse(base) for base in cls.bases]
    return [name for name in names if name.split(".")[0] in ("socketio", "engineio")]


@functools.cache
def library_class_names(dotted: str) -> frozenset[str]:
    """Everything a library class (and its bases) defines or assigns on self."""
    module, _, name = dotted.rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    return frozenset(hooks.library_names(cls))


def all_library_names() -> frozenset[str]:
    names: set[str] = set()
    for dotted in LIBRARY_CLASSES:
        names |= library_class_names(dotted)
    return frozenset(names)


def outside_the_seam() -> list[str]:
    """Every use of a library internal outside the seam, as ``file:line: what``."""
    found: list[str] = []
    for rel, tree in python_files():
        if in_seam(rel):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and not receiver_is_own(node):
                name = node.attr
                private = is_private(name) and name not in PUBLIC_UNDERSCORE
                internal = name in INTERNAL_NAMES and (rel, name) not in NOT_LIBRARY
                if private or internal:
                    found.append(f"{rel}:{node.lineno}: {ast.unparse(node)}")
            elif isinstance(node, ast.ImportFrom | ast.Import):
                modules = (
                    [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else [alias.name for alias in node.names]
                )
                for module in modules:
                    top = module.split(".")[0]
                    if top in ("socketio", "engineio") and module not in PUBLIC_MODULES:
                        found.append(f"{rel}:{node.lineno}: import {module}")
            elif isinstance(node, ast.ClassDef):
                found += overridden_internals(rel, node)
    return found


def overridden_internals(rel: str, cls: ast.ClassDef) -> list[str]:
    """Private library names a subclass outside the seam defines."""
    bases = library_bases(cls)
    if not bases:
        return []
    theirs: set[str] = set()
    for base in bases:
        theirs |= library_class_names(base)
    return [
        f"{rel}:{node.lineno}: {cls.name}.{node.name} overrides a library internal"
        for node in cls.body
        if isinstance(node, ast.FunctionDef)
        and is_private(node.name)
        and node.name in theirs
    ]


def test_no_library_internals_outside_the_seam() -> None:
    """Only webapp/engine/ (and the test clients' engine_client) reach internals."""
    found = outside_the_seam()
    assert not found, (
        "python-socketio/engineio internals used outside the engine seam "
        "(webapp/engine/): add a function to webapp/engine/sockets.py instead\n"
        + "\n".join(found)
    )


def seam_private_names() -> dict[str, str]:
    """Private names the seam uses or overrides -> the first file:line."""
    used: dict[str, str] = {}
    for rel, tree in python_files():
        if not rel.startswith(SEAM):
            continue
        for node in ast.walk(tree):
            name = None
            if isinstance(node, ast.Attribute) and is_private(node.attr):
                name = node.attr
            elif isinstance(node, ast.FunctionDef) and is_private(node.name):
                name = node.name
            if name is not None and name not in PUBLIC_UNDERSCORE:
                used.setdefault(name, f"{rel}:{node.lineno}")
    return used


def checked_names() -> set[str]:
    """Every name ``test_engine_hooks.py`` checks, in any of its tables."""
    names: set[str] = set()
    for check in hooks.SOCKETIO + hooks.ENGINEIO + hooks.EVENTLET + hooks.GEVENT:
        names |= words(check)
    for check in hooks.SIMPLE_WEBSOCKET:
        names |= words(check)
    for copy in hooks.COPIES:
        names.add(copy.target.rsplit(".", 1)[1])
    for _ours, _library, expected in hooks._subclasses():
        names |= expected
    return names


def words(check: hooks.Check) -> set[str]:
    """The identifiers a check names (its target, attributes, call-site snippet)."""
    if isinstance(check, hooks.Has):
        return {check.target.rsplit(".", 1)[1], *check.attrs}
    if isinstance(check, hooks.Calls):
        return set(re.findall(r"[A-Za-z_]\w*", check.snippet))
    return {check.name}


def test_every_library_internal_the_seam_uses_is_checked() -> None:
    """A private library name in the seam has an entry in test_engine_hooks.py."""
    ours = own_private_names()
    library = all_library_names()
    checked = checked_names()
    unchecked = [
        f"{where}: {name}"
        for name, where in sorted(seam_private_names().items())
        if name not in checked and (name in library or name not in ours)
    ]
    assert not unchecked, (
        "the engine seam uses library internals test_engine_hooks.py does not "
        "check: add a Has/Calls entry for each\n" + "\n".join(unchecked)
    )


def own_private_names() -> set[str]:
    """Private names the seam itself defines (methods, attributes, globals)."""
    own: set[str] = set()
    for rel, tree in python_files():
        if not rel.startswith(SEAM):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                own.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                own.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                own.add(node.id)
            elif isinstance(node, ast.arg):
                own.add(node.arg)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                own.add(node.target.id)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.AnnAssign) and isinstance(
                        item.target, ast.Name
                    ):
                        own.add(item.target.id)
    return {name for name in own if is_private(name)}


@pytest.mark.parametrize(
    "snippet",
    [
        "sio.eio._get_socket(eio_sid).queue.qsize()",
        "manager.rooms.get(namespace)",
        "import engineio.socket",
    ],
)
def test_the_scan_catches_internals(snippet: str, tmp_path: Path) -> None:
    """The scanner is not blind: each kind of internal use is reported."""
    tree = ast.parse(snippet)
    hits = [
        node
        for node in ast.walk(tree)
        if (
            isinstance(node, ast.Attribute)
            and (is_private(node.attr) or node.attr in INTERNAL_NAMES)
        )
        or isinstance(node, ast.Import)
    ]
    assert hits
