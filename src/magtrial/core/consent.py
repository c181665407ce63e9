"""Consent and withdrawal rules: what must be signed before diary entries, and how a participant leaves.

Consent is required once a trial has a consent text: its latest version must be signed before any
further diary entry (trials without a consent text behave as before). A signature is the
participant's typed name plus the stated meaning of signing; a withdrawal is possible at any time,
with the choice to keep the data for analysis or to erase it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from magtrial.errors import Conflict, ValidationError

MAX_TEXT = 50_000
MAX_NAME = 200
MAX_REASON = 2000
MEANING = (
    "I agree to take part in this N-of-1 trial as described above. I understand that I can withdraw at any time, "
    "and choose then whether what I entered is kept for analysis or erased."
)


class WithdrawalChoice(StrEnum):
    KEEP = "keep"  # keep what I entered for analysis
    ERASE = "erase"  # erase my data


class ConsentRequired(Conflict):
    """A diary write while the latest consent version is unsigned."""


@dataclass(frozen=True)
class ConsentStatus:
    latest: int | None  # None: the trial has no consent text, so none is needed
    signed: frozenset[int]

    @property
    def needs_signature(self) -> bool:
        return self.latest is not None and self.latest not in self.signed

    @property
    def is_reconsent(self) -> bool:
        return self.needs_signature and bool(self.signed)


def check_consent_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise ValidationError("the consent text is empty")
    if len(text) > MAX_TEXT:
        raise ValidationError(f"the consent text is longer than {MAX_TEXT} characters")
    return text


def check_typed_name(name: str) -> str:
    """The signature: the participant's name as they type it (any script), not blank, one line."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError("type your full name to sign")
    if len(name) > MAX_NAME:
        raise ValidationError(f"the typed name is longer than {MAX_NAME} characters")
    return name


def check_version(status: ConsentStatus, version: int) -> None:
    """Only the latest version can be signed, and only once."""
    if status.latest is None:
        raise Conflict("this trial has no consent text to sign")
    if version != status.latest:
        raise Conflict(f"consent version {version} is not the current one (version {status.latest}); reload it")
    if version in status.signed:
        raise Conflict(f"consent version {version} is already signed")


def require_consent(status: ConsentStatus) -> None:
    """Refuse diary entries until the latest consent version is signed."""
    if status.needs_signature:
        what = "a new version of the consent" if status.is_reconsent else "the consent"
        raise ConsentRequired(
            f"please read and sign {what} (version {status.latest}) before adding diary entries; "
            "`magtrial consent show` and `magtrial consent sign`, or the Consent page"
        )


def check_choice(choice: str) -> WithdrawalChoice:
    try:
        return WithdrawalChoice(choice)
    except ValueError:
        raise ValidationError("choose 'keep' (keep what I entered for analysis) or 'erase' (erase my data)") from None


def check_reason(reason: str) -> str:
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise ValidationError(f"the reason is longer than {MAX_REASON} characters")
    return reason
