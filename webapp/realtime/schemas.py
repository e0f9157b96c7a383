"""What clients send on a socket, and the acknowledgement shapes they get back.

Every client event's payload is a pydantic model here (unknown fields are an
error); ``parse_event`` turns a failure into the ``invalid`` error ack naming the
fields. REST request bodies have their own schemas under ``webapp/api``.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, field_validator
from pydantic import ValidationError as PydanticValidationError

from webapp.errors import ValidationFailed, details_message, pydantic_details
from webapp.input_guard import MAX_ID

M = TypeVar("M", bound=BaseModel)
MAX_MESSAGE_CHARS = 4000

# A larger id names no row and would overflow the database driver.
SessionId = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
EventId = Annotated[StrictInt, Field(ge=0, le=MAX_ID)]


class SessionEvent(BaseModel):
    """A client event about one session; unknown fields are an error."""

    model_config = ConfigDict(extra="forbid")

    session_id: SessionId


class JoinSession(SessionEvent):
    """``join_session``; with ``last_event_id`` the session room is replayed."""

    last_event_id: EventId | None = None


class SendMessage(SessionEvent):
    """``send_message``: non-blank text of at most 4000 characters."""

    text: StrictStr = Field(max_length=MAX_MESSAGE_CHARS)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("text must not be empty")
        return text


def parse_event(model: type[M], data: Any) -> M:
    """Validate a client event's payload, or fail (code ``invalid``) naming fields."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        details = pydantic_details(exc, root="data")
        raise ValidationFailed(
            details_message(details), code="invalid", details=details
        ) from None


def error_ack(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The negative acknowledgement shape (``details``: e.g. one entry per field)."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"ok": False, "error": error}
