"""Who may do and see what. Blinding is enforced here, once, for every interface.

- patient: own diary; never arms until unblinding.
- clinician: creates trials, acknowledges safety findings, reads diaries, unblinds at the end.
- pharmacist (unblinded): sees the pack-to-arm list to prepare packs; never enters outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from magtrial.errors import Forbidden, ValidationError


class Role(StrEnum):
    PATIENT = "patient"
    CLINICIAN = "clinician"
    PHARMACIST = "pharmacist"


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValidationError("the user name is empty")
        if not isinstance(self.role, Role):
            try:
                object.__setattr__(self, "role", Role(self.role))
            except ValueError:
                raise ValidationError(
                    f"role must be one of {', '.join(r.value for r in Role)}; got {self.role!r}"
                ) from None


def require(actor: Actor, *roles: Role, to: str) -> None:
    if actor.role not in roles:
        allowed = " or ".join(r.value for r in roles)
        raise Forbidden(f"a {actor.role.value} may not {to} (needs {allowed})")


def may_see_allocation(actor: Actor, status: str) -> bool:
    return actor.role is Role.PHARMACIST or status == "unblinded"
