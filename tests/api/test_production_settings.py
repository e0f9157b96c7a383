"""Production: refusing to start on unsafe settings, and the first admin.

Everything runs as an operator would: ``python wsgi.py`` and ``flask`` in
subprocesses with ``APP_CONFIG=production`` (real password hashing).
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import subprocess
import termios
import time
from pathlib import Path

from click.testing import Result
from flask.testing import FlaskCliRunner

from tests.support.server import PYTHON, ROOT, ServerProcess, base_env, run_flask
from tests.support.world import Api, login

ADMIN_EMAIL = "ops@example.com"
ADMIN_PASSWORD = "a long enough passphrase"


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A complete production environment on a fresh SQLite file."""
    env = base_env(
        f"sqlite:///{tmp_path / 'prod.db'}",
        {"APP_CONFIG": "production", "CORS_ALLOWED_ORIGINS": "https://app.example"},
    )
    env.pop("PASSWORD_HASH_PROFILE")  # production refuses the cheap test profile
    env.update(extra)
    return env


def run(
    env: dict[str, str], *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def meaningful_lines(stderr: str) -> list[str]:
    """stderr without eventlet's deprecation notice (printed on import)."""
    return [
        line
        for line in stderr.splitlines()
        if line.strip()
        and "Eventlet" not in line
        and "eventlet" not in line
        and "framework." not in line
        and "we strongly recommend" not in line
        and "import eventlet" not in line
    ]


def test_wsgi_refuses_production_naming_every_missing_setting_in_one_line(
    tmp_path: Path,
) -> None:
    env = production_env(tmp_path)
    for name in ("SECRET_KEY", "JWT_SECRET_KEY", "CORS_ALLOWED_ORIGINS"):
        env.pop(name)
    result = run(dict(env, PORT="1", HOST="127.0.0.1"), "wsgi.py")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    lines = meaningful_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    for name in ("SECRET_KEY", "JWT_SECRET_KEY", "CORS_ALLOWED_ORIGINS"):
        assert name in lines[0]


def test_wsgi_refuses_a_wildcard_origin(tmp_path: Path) -> None:
    env = production_env(tmp_path, CORS_ALLOWED_ORIGINS="*")
    result = run(dict(env, PORT="1", HOST="127.0.0.1"), "wsgi.py")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = meaningful_lines(result.stderr)
    assert len(lines) == 1 and "CORS_ALLOWED_ORIGINS" in lines[0], result.stderr


def test_wsgi_refuses_origins_that_are_not_exact(tmp_path: Path) -> None:
    bad = "https://app.example/,https://*.example"
    env = production_env(tmp_path, CORS_ALLOWED_ORIGINS=bad)
    result = run(dict(env, PORT="1", HOST="127.0.0.1"), "wsgi.py")
    assert result.returncode != 0
    lines = meaningful_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert "https://app.example/" in lines[0] and "https://*.example" in lines[0]


def test_flask_cli_refuses_production_with_one_line(tmp_path: Path) -> None:
    env = production_env(tmp_path, CORS_ALLOWED_ORIGINS="*")
    env.pop("JWT_SECRET_KEY")
    for command in (
        ["db", "upgrade"],
        ["create-admin", "--email", "a@b.c"],
        ["--help"],
    ):
        result = run(env, "-m", "flask", "--app", "webapp", *command)
        assert result.returncode != 0, command
        assert "Traceback" not in result.stderr, result.stderr
        lines = meaningful_lines(result.stderr)
        assert len(lines) == 1, result.stderr
        assert "JWT_SECRET_KEY" in lines[0] and "CORS_ALLOWED_ORIGINS" in lines[0]


def create_admin(
    env: dict[str, str], email: str, password: str, name: str = "Operator"
) -> subprocess.CompletedProcess[str]:
    return run(
        env,
        "-m",
        "flask",
        "--app",
        "webapp",
        "create-admin",
        "--email",
        email,
        "--name",
        name,
        "--password-stdin",
        stdin=password + "\n",
    )


def test_create_admin_in_production_then_log_in_and_manage_tenants(
    tmp_path: Path,
) -> None:
    env = production_env(tmp_path)
    run_flask(env, "--app", "webapp", "db", "upgrade")

    created = create_admin(env, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert created.returncode == 0, created.stderr
    assert ADMIN_EMAIL in created.stdout

    server = ServerProcess(env).start()
    try:
        tokens = login(server.url, ADMIN_EMAIL, ADMIN_PASSWORD)
        assert tokens["user"]["role"] == "admin"
        admin = Api(server.url, token=tokens["access_token"])
        tenants = admin.get("/api/tenants").json()["tenants"]
        assert [(t["name"], t["kind"], t["parent_id"]) for t in tenants] == [
            ("Platform", "msp", None)
        ]
        # The admin can build a customer from nothing...
        msp = admin.post("/api/tenants", json={"name": "Acme MSP", "kind": "msp"})
        assert msp.status_code == 201, msp.text
        client = admin.post(
            "/api/tenants",
            json={"name": "Acme", "kind": "client", "parent_id": msp.json()["id"]},
        )
        user = admin.post(
            f"/api/tenants/{client.json()['id']}/users",
            json={
                "email": "alice@acme.example",
                "password": "alice-password-1",
                "name": "Alice",
                "role": "client",
            },
        )
        assert user.status_code == 201, user.text
        # ...whose users never see the platform tenant.
        alice = login(server.url, "alice@acme.example", "alice-password-1")
        visible = Api(server.url, token=alice["access_token"]).get("/api/tenants")
        assert [t["name"] for t in visible.json()["tenants"]] == ["Acme"]
        assert "Traceback" not in server.log()
    finally:
        server.stop()

    # A second admin joins the same platform tenant; an email is never reused.
    second = create_admin(env, "second@example.com", ADMIN_PASSWORD + "!")
    assert second.returncode == 0, second.stderr
    assert "tenant #1" in second.stdout
    taken = create_admin(env, ADMIN_EMAIL.upper(), ADMIN_PASSWORD)
    assert taken.returncode != 0 and "already exists" in taken.stderr
    assert "Traceback" not in taken.stderr


def test_create_admin_refuses_weak_empty_and_bad_input(runner: FlaskCliRunner) -> None:
    def invoke(email: str, password: str) -> Result:
        return runner.invoke(
            args=["create-admin", "--email", email, "--name", "Op", "--password-stdin"],
            input=password + "\n",
        )

    for password, reason in (
        ("", "empty"),
        ("   ", "empty"),
        ("short-pass", "too short"),
        (ADMIN_EMAIL, "guessable"),
        ("Op", "too short"),
    ):
        result = invoke(ADMIN_EMAIL, password)
        assert result.exit_code != 0, (password, result.output)
        assert reason in result.output and "12 characters" in result.output
    assert "not an email" in invoke("not-an-email", ADMIN_PASSWORD).output
    assert invoke(ADMIN_EMAIL, ADMIN_PASSWORD).exit_code == 0
    taken = invoke(ADMIN_EMAIL.upper(), ADMIN_PASSWORD)
    assert taken.exit_code != 0 and "already exists" in taken.output
    assert taken.exception is None or isinstance(taken.exception, SystemExit)


def _read_until(fd: int, text: str, timeout: float = 60) -> str:
    """Read a pty until ``text`` shows up."""
    seen = ""
    deadline = time.monotonic() + timeout
    while text not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"waited for {text!r}, got {seen!r}"
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                chunk = os.read(fd, 1024)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk.decode(errors="replace")
    return seen


def test_create_admin_asks_twice_on_a_terminal(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    run_flask(env, "--app", "webapp", "db", "upgrade")
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [PYTHON, "-m", "flask", "--app", "webapp", "create-admin"]
        + ["--email", ADMIN_EMAIL, "--name", "Operator"],
        cwd=ROOT,
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        # Make the pty the child's controlling terminal, so getpass can hide input.
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),  # noqa: PLW1509
    )
    os.close(slave)
    try:
        _read_until(master, "Password")
        os.write(master, (ADMIN_PASSWORD + "\n").encode())
        _read_until(master, "confirmation")
        os.write(master, (ADMIN_PASSWORD + "\n").encode())
        output = _read_until(master, "created admin")
        assert ADMIN_PASSWORD not in output  # hidden input
        assert process.wait(60) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
