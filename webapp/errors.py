"""Domain errors and the one JSON error shape: {"error": {code, message, details}}."""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """An error a client caused or must know about; maps to REST and socket acks."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """The ``error`` object of the JSON shape."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


class ValidationFailed(DomainError):
    """Input did not match the schema (400)."""

    status, code = 400, "validation_error"


class Unauthorized(DomainError):
    """Missing or bad credentials (401)."""

    status, code = 401, "unauthorized"


class Forbidden(DomainError):
    """Authenticated but not allowed (403)."""

    status, code = 403, "forbidden"


class NotFound(DomainError):
    """Unknown object, or another tenant's object (404)."""

    status, code = 404, "not_found"


class Conflict(DomainError):
    """The request conflicts with the current state (409)."""

    status, code = 409, "conflict"


class RateLimited(DomainError):
    """Too many requests (429)."""

    status, code = 429, "rate_limited"


class DependencyDown(DomainError):
    """The database or message queue is unreachable (503)."""

    status, code = 503, "dependency_unavailable"


def error_response(
    status: int, code: str, message: str, details: Any = None
) -> tuple[Response, int]:
    """Build the JSON error response."""
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return jsonify({"error": body}), status


def _snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


# pydantic names the model class when a value is not an object ("instance of
# JoinSession"); clients need the field and what to send instead.
_OBJECT_ERRORS = ("model_type", "model_attributes_type", "dict_type")


def pydantic_details(exc: Any, root: str = "body") -> list[dict[str, Any]]:
    """Field-level details (``field``, ``message``) from a pydantic ``ValidationError``.

    ``root`` names the whole input when the error is about it, not a field.
    """
    return [
        {
            "field": ".".join(str(part) for part in err.get("loc", ())) or root,
            "message": (
                "Input should be an object"
                if err.get("type") in _OBJECT_ERRORS
                else err.get("msg", "invalid")
            ),
        }
        for err in exc.errors(include_url=False, include_context=False)
    ]


def details_message(details: list[dict[str, Any]]) -> str:
    """One human line from field details: ``field: message; field: message``."""
    return "; ".join(f"{item['field']}: {item['message']}" for item in details)


def register_error_handlers(app: Flask) -> None:
    """Map every error (domain, HTTP, unexpected) to the JSON shape."""

    @app.errorhandler(DomainError)
    def handle_domain_error(exc: DomainError) -> tuple[Response, int]:
        response, status = error_response(
            exc.status, exc.code, exc.message, exc.details
        )
        if status == 429 and isinstance(exc.details, dict):
            response.headers["Retry-After"] = str(exc.details.get("retry_after", 1))
        return response, status

    @app.errorhandler(HTTPException)
    def handle_http_error(exc: HTTPException) -> tuple[Response, int]:
        status = exc.code or 500
        code = {413: "payload_too_large", 405: "method_not_allowed"}.get(
            status, _snake(exc.name)
        )
        response, status = error_response(status, code, exc.description or exc.name)
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response, status

    from sqlalchemy.exc import OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    @app.errorhandler(PoolTimeout)
    @app.errorhandler(OperationalError)
    def handle_database_down(exc: Exception) -> tuple[Response, int]:
        logger.error("database unavailable: %s", exc)
        return error_response(
            503, "dependency_unavailable", "the database is unavailable"
        )

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception) -> tuple[Response, int]:
        logger.exception("unhandled error")
        return error_response(500, "internal_error", "internal server error")
