"""Who is calling: a user (from a JWT) or an integration (from an API key)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

INTEGRATION_ROLE = "integration"


@dataclass(frozen=True)
class Identity:
    """The caller, as the server computed it; tenant never comes from a payload."""

    tenant_id: int
    role: str
    tenant_kind: str
    user_id: int | None = None
    name: str = ""
    api_key_id: int | None = None
    jti: str | None = None
    visible_tenant_ids: tuple[int, ...] = field(default_factory=tuple)

    @property
    def is_admin(self) -> bool:
        """Platform operator."""
        return self.role == "admin"

    @property
    def is_msp_staff(self) -> bool:
        """A user or key of an MSP tenant (sees its client tenants)."""
        return self.tenant_kind == "msp" and self.role in (
            "msp",
            "admin",
            INTEGRATION_ROLE,
        )

    def can_see_tenant(self, tenant_id: int) -> bool:
        """Admins see every tenant; others see their own and (MSP) their clients'."""
        return self.is_admin or tenant_id in self.visible_tenant_ids

    def user_summary(self) -> dict[str, Any]:
        """The ``user`` object sent in ``welcome``."""
        return {
            "id": self.user_id,
            "name": self.name,
            "role": self.role,
            "tenant_id": self.tenant_id,
        }

    def to_dict(self) -> dict[str, Any]:
        """Serialisable form (kept in the socket session).

        A shallow copy: every field is a scalar or a tuple of ints, and
        ``dataclasses.asdict`` (a recursive deep copy) cost a tenth of a connect.
        """
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Identity:
        """Inverse of ``to_dict``."""
        data = dict(data)
        data["visible_tenant_ids"] = tuple(data.get("visible_tenant_ids") or ())
        return cls(**data)
