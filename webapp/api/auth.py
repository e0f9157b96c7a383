"""/api/auth: login, refresh, logout, me."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from flask_jwt_extended import current_user, get_jwt, jwt_required

from webapp.api.schemas import LoginBody, parse_body
from webapp.services.tenancy import auth as auth_service

bp = Blueprint("auth", __name__, url_prefix="/api/auth")


@bp.post("/login")
def login() -> dict[str, Any]:
    """Exchange email and password for tokens."""
    body = parse_body(LoginBody)
    return auth_service.login(body.email, body.password, request.remote_addr)


@bp.post("/refresh")
@jwt_required(refresh=True)
def refresh() -> dict[str, Any]:
    """A new access token from a refresh token."""
    return auth_service.refresh(current_user)


@bp.post("/logout")
@jwt_required()
def logout() -> Response:
    """Revoke the access token (and ``refresh_token`` if given); close its sockets."""
    claims = get_jwt()
    auth_service.logout(claims["jti"], claims["exp"])  # first, whatever follows
    body = request.get_json(silent=True) if request.content_length else None
    refresh_token = body.get("refresh_token") if isinstance(body, dict) else None
    if refresh_token is not None:
        auth_service.revoke_refresh_token(current_user, str(refresh_token))
    return Response(status=204)


@bp.get("/me")
@jwt_required()
def me() -> dict[str, Any]:
    """The caller and their tenant."""
    return auth_service.me(current_user)
