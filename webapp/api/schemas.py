"""Request bodies, validated with pydantic; one place for the REST input shapes."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from flask import request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from webapp.errors import ValidationFailed, pydantic_details
from webapp.input_guard import MAX_ID

M = TypeVar("M", bound=BaseModel)

# An id field: a larger number names no row and would overflow the database driver.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class Body(BaseModel):
    """Strict request body: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LoginBody(Body):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


class TenantBody(Body):
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["msp", "client"]
    parent_id: Id | None = None


class UserBody(Body):
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    password: str = Field(min_length=8, max_length=1024)
    name: str = Field(min_length=1, max_length=200)
    role: Literal["admin", "msp", "client"]


class ApiKeyBody(Body):
    name: str = Field(min_length=1, max_length=200)


class PublishBody(Body):
    namespace: str
    event: str
    data: dict[str, Any]
    target: dict[str, Any]
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=128)


def parse_body(model: type[M], payload: Any = None) -> M:
    """Validate the JSON body (or ``payload``) against ``model``."""
    if payload is None:
        payload = request.get_json(silent=True)
    if payload is None:
        raise ValidationFailed("the body must be JSON", code="invalid_json")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise ValidationFailed(
            "the request is not valid", details=pydantic_details(exc)
        ) from exc


def int_arg(name: str, default: int, minimum: int = 0, maximum: int = MAX_ID) -> int:
    """An integer query argument within ``minimum..maximum``, or a 400 naming it."""
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed(
            f"{name} must be an integer", details=[{"field": name}]
        ) from None
    if not minimum <= value <= maximum:
        raise ValidationFailed(
            f"{name} must be between {minimum} and {maximum}",
            details=[{"field": name, "message": "out of range"}],
        )
    return value
