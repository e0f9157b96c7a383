"""Flask CLI commands: create-admin, seed-demo, prune-events, publish, protocol-docs."""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from webapp.auth.api_keys import KEY_PREFIX, hash_api_key
from webapp.errors import DomainError
from webapp.extensions import db
from webapp.models import ApiKey, Tenant, User
from webapp.protocol_docs import register_protocol_docs
from webapp.services.tenancy.platform_admin import PLATFORM_TENANT, create_admin
from webapp.services.tenancy.users import add_user

DEMO_USERS = (
    # (tenant name, email, name, role, password)
    ("Demo MSP", "admin@demo.switchboard", "Ada Admin", "admin", "admin-demo-pass"),
    ("Demo MSP", "msp@demo.switchboard", "Max MSP", "msp", "msp-demo-pass"),
    ("Acme Corp", "acme@demo.switchboard", "Alice Acme", "client", "acme-demo-pass"),
    ("Globex", "globex@demo.switchboard", "Gary Globex", "client", "globex-demo-pass"),
)


def _get_or_create_tenant(name: str, kind: str, parent_id: int | None) -> Tenant:
    tenant = db.session.scalar(select(Tenant).where(Tenant.name == name))
    if tenant is None:
        tenant = Tenant(name=name, kind=kind, parent_id=parent_id)
        db.session.add(tenant)
        db.session.flush()
    return tenant


def _demo_api_key(tenant: Tenant) -> str:
    """A demo key derived from SECRET_KEY, so re-seeding prints a working key."""
    secret = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(
        secret, f"demo-key:{tenant.name}".encode(), hashlib.sha256
    ).hexdigest()
    prefix = "demo" + digest[:8]
    key = f"{KEY_PREFIX}_{prefix}_{digest[8:48]}"
    record = db.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if record is None:
        db.session.add(
            ApiKey(
                tenant_id=tenant.id, name="demo", prefix=prefix, hash=hash_api_key(key)
            )
        )
    return key


def seed_demo() -> dict[str, Any]:
    """Create (idempotently) the demo tenants, users and keys; return them."""
    msp = _get_or_create_tenant("Demo MSP", "msp", None)
    tenants = {
        "Demo MSP": msp,
        "Acme Corp": _get_or_create_tenant("Acme Corp", "client", msp.id),
        "Globex": _get_or_create_tenant("Globex", "client", msp.id),
    }
    users = []
    for tenant_name, email, name, role, password in DEMO_USERS:
        tenant = tenants[tenant_name]
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = add_user(tenant.id, email, name, role, password)
            db.session.flush()  # its id, for the JSON below
        users.append(
            {
                "email": email,
                "password": password,
                "role": role,
                "tenant_id": tenant.id,
                "id": user.id,
                "name": name,
            }
        )
    keys = {name: _demo_api_key(tenant) for name, tenant in tenants.items()}
    db.session.commit()
    return {
        "tenants": [
            {**t.to_dict(), "api_key": keys[name]} for name, t in tenants.items()
        ],
        "users": users,
    }


def register_cli(app: Flask) -> None:
    """Attach the commands to ``app.cli``."""

    @app.cli.command("prune-events")
    @click.option(
        "--older-than",
        type=int,
        default=None,
        help="Seconds (default: EVENT_RETENTION).",
    )
    def prune_events_command(older_than: int | None) -> None:
        """Delete events older than the retention period."""
        from webapp.services.delivery.retention import prune_events

        click.echo(f"pruned {prune_events(older_than)} events")

    @app.cli.command("seed-demo")
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
    def seed_demo_command(as_json: bool) -> None:
        """Create the demo MSP, two client tenants, users and API keys."""
        if app.config["ENV_NAME"] == "production":
            raise click.ClickException("seed-demo refuses to run in production")
        result = seed_demo()
        if as_json:
            click.echo(json.dumps(result))
            return
        click.echo("Demo tenants (API key for X-API-Key):")
        for tenant in result["tenants"]:
            click.echo(
                f"  #{tenant['id']} {tenant['name']} ({tenant['kind']}): "
                f"{tenant['api_key']}"
            )
        click.echo("Demo users (email / password):")
        for user in result["users"]:
            click.echo(f"  {user['role']:<7} {user['email']} / {user['password']}")

    app.cli.add_command(create_admin_command)
    app.cli.add_command(publish_command)
    register_protocol_docs(app)


def _read_password(from_stdin: bool) -> str:
    """The password from stdin (one line), or asked twice with hidden input."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise click.UsageError(
            "no terminal to ask for the password: pipe it in with --password-stdin"
        )
    return str(
        click.prompt("Password", hide_input=True, confirmation_prompt=True, default="")
    )


@click.command("create-admin")
@click.option("--email", required=True, help="The admin's login email.")
@click.option("--name", required=True, help="The admin's display name.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input (else it is asked twice).",
)
@click.option(
    "--tenant",
    "tenant_name",
    default=PLATFORM_TENANT,
    show_default=True,
    help="The operators' tenant (a top-level MSP), created when missing.",
)
@with_appcontext
def create_admin_command(
    email: str, name: str, password_stdin: bool, tenant_name: str
) -> None:
    """Create an admin user (and the platform tenant); works in production."""
    password = _read_password(password_stdin)
    try:
        user = create_admin(email, name, password, tenant_name)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(
        f"created admin {user.email} (user #{user.id}) "
        f"in tenant #{user.tenant_id} {tenant_name!r}"
    )


@click.command("publish")
@click.option("--namespace", required=True, help="e.g. /events")
@click.option("--event", required=True, help="A registered event type, e.g. alert")
@click.option("--tenant", "tenant_id", type=int, required=True, help="Tenant id.")
@click.option("--data", default="{}", help="The payload, as a JSON object.")
@click.option(
    "--target-kind",
    type=click.Choice(["tenant", "user", "session", "msp"]),
    default="tenant",
    show_default=True,
)
@click.option("--target-id", type=int, help="Target id (default: --tenant).")
@click.option("--idempotency-key", help="Repeat-safe key (24 h window).")
def publish_command(
    namespace: str,
    event: str,
    tenant_id: int,
    data: str,
    target_kind: str,
    target_id: int | None,
    idempotency_key: str | None,
) -> None:
    """Publish one event as the system: persist, get an id, emit via the queue.

    Prints the result as JSON. Without MESSAGE_QUEUE_URL the event is persisted
    (clients get it on replay) but no server process receives it live: a warning
    says so on stderr.
    """
    from webapp.services.delivery.external import (
        live_delivery_available,
        publish_as_system,
    )

    try:
        payload = json.loads(data)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--data") from None
    target = {target_kind: target_id if target_id is not None else tenant_id}
    try:
        result = publish_as_system(
            namespace, event, tenant_id, payload, target, idempotency_key
        )
    except DomainError as exc:
        click.echo(json.dumps({"error": exc.to_dict()}), err=True)
        raise SystemExit(1) from None
    live = live_delivery_available()
    click.echo(json.dumps({**result.to_dict(), "live": live}))
    if not live:
        click.echo(
            "warning: MESSAGE_QUEUE_URL is not set, so no server process received "
            "this event live; it is persisted and clients get it on replay.",
            err=True,
        )
