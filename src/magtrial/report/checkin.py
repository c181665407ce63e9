"""The report's blinding check and stopping rule.

Read from ``record.extra`` ("blinding_guesses", "stopping_decisions": filled by ``service.trials``).
Blinded, it shows the answers by pack and "continue" / "trial complete" only, which do not depend on
the allocation; unblinded, it adds Bang's blinding index per arm (``core.blinding_check.score``).
"""

from __future__ import annotations

from typing import Any

from magtrial.core.allocation import Arm
from magtrial.core.blinding_check import QUESTION, Guess, score
from magtrial.core.protocol import Blinding
from magtrial.core.record import TrialRecord
from magtrial.core.stopping import MESSAGES, Status


def checkin_section(record: TrialRecord) -> dict[str, Any] | None:
    """None without a stopping rule or any answer, so other reports stay as they were."""
    p = record.protocol
    guesses = {int(k): Guess(v) for k, v in dict(record.extra.get("blinding_guesses") or {}).items()}  # type: ignore[call-overload]
    decisions = list(record.extra.get("stopping_decisions") or [])  # type: ignore[call-overload]
    if p.stopping is None and not guesses:
        return None
    section: dict[str, Any] = {"question": QUESTION, "answers": [], "indices": None, "stopping": None}
    if p.blinding is Blinding.BLINDED:
        section["answers"] = [
            (f"pack {n}", guesses[n].label if n in guesses else "no answer") for n in range(1, p.n_periods + 1)
        ]
        if record.allocation is not None:
            on_mag = {n: record.allocation.arm_of_period(n) is Arm.MAGNESIUM for n in range(1, p.n_periods + 1)}
            section["indices"] = [i.text for i in score(guesses, on_mag)]
    if p.stopping is not None:
        last = Status(decisions[-1][1]) if decisions else Status.CONTINUE
        section["stopping"] = {
            "rule": p.stopping.text,
            "evaluated": len(decisions),
            "message": MESSAGES[last],
        }
    return section
