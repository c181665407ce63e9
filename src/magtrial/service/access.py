"""Who may do and see what, decided once here for every interface.

- patient: their own trials' diary; never the allocation before unblinding.
- clinician: creates and follows their own participants' trials, acknowledges safety findings,
  unblinds at the end (with an unblinding key).
- pharmacist (unblinded): prepares packs for the trials sealed to their key; sees the allocation
  only by opening it with that key, and every such view is audited; never enters outcomes.

The actor is an account stored in the database (``service.accounts``); no flag can pick a role.
Another person's trial is answered with "not found", so its existence is not revealed either.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from magtrial.errors import Forbidden, NotFound, ValidationError
from magtrial.store.models import TrialRow


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


def owns(actor: Actor, row: TrialRow) -> bool:
    """The trial is this actor's: their own diary, their participant, or sealed to their pharmacist key."""
    if actor.role is Role.PATIENT:
        return row.participant == actor.name
    if actor.role is Role.CLINICIAN:
        return row.clinician == actor.name
    return row.pharmacist == actor.name


def visible_trials(actor: Actor):
    """A SQL condition selecting the trials ``owns`` allows, for list queries."""
    columns = {Role.PATIENT: TrialRow.participant, Role.CLINICIAN: TrialRow.clinician}
    column = columns.get(actor.role, TrialRow.pharmacist)
    return column == actor.name


def trial_for(s: Session, actor: Actor, trial_id: str, *, lock: bool = False) -> TrialRow:
    """The trial row if this actor may see it; ``lock`` takes a row lock (PostgreSQL) for a dependent write."""
    row = s.get(TrialRow, trial_id, with_for_update=lock or None)
    if row is None or not owns(actor, row):
        raise NotFound(f"no trial {trial_id!r} among your trials; `magtrial trial list` shows them")
    return row
