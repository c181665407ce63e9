"""Replay the audit trail and compare what it says with the tables.

The hash chain proves the *events* were not edited; this proves the *tables* still say what the
events say. A hand edit of a diary value, a trial set back from ``unblinded`` to ``active`` (which
would re-open its diary), a changed protocol, a swapped sealed allocation, an account whose role
was changed: each makes a table differ from the replayed events, and the first difference is named.
Events are streamed in order; the state kept is one small dict per trial, account and key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from magtrial.store import amendment_replay, checkin_replay, clinic_replay
from magtrial.store.audit import _stream, erased_events, sha256_text
from magtrial.store.consent_replay import consent_differences
from magtrial.store.erasure import KEPT_ACTIONS
from magtrial.store.models import AccountRow, DiaryVersionRow, SealedAllocationRow, TrialRow, UnblindingKeyRow


@dataclass
class _Trial:
    seq: int
    fields: dict[str, Any]
    protocol: dict[str, Any]
    status: str = "active"
    flags: list[str] | None = None  # None: created before flags were recorded at creation
    revealed: tuple[str, str] | None = None


@dataclass
class ReplayState:
    trials: dict[str, _Trial] = field(default_factory=dict)
    diary: dict[tuple[str, str, int], dict[str, Any]] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: int = 0


def replay(session: Session) -> ReplayState:
    state = ReplayState()
    erased = erased_events(session)
    for row in _stream(session, 2000):
        state.events += 1
        if row.seq in erased and row.action not in KEPT_ACTIONS:
            continue  # tombstoned by an erasure, and so are the rows it made
        new = json.loads(row.new)
        action = row.action
        if action == "account.create":
            state.accounts[row.entity_id] = new["role"]
        elif action == "key.register":
            state.keys[row.entity_id] = new
        elif action == "trial.create":
            fields = {
                k: new.get(k)
                for k in (
                    "participant",
                    "clinician",
                    "pharmacist",
                    "simulated",
                    "start_date",
                    "commitment",
                    "sealed_sha256",
                )
            }
            state.trials[row.entity_id] = _Trial(row.seq, fields, dict(new["protocol"]), flags=new.get("flags"))
        elif action == "protocol.amend" and row.trial_id in state.trials:
            trial = state.trials[row.trial_id]
            trial.protocol.update(new)
            if "start_date" in new and new["start_date"]:
                trial.fields["start_date"] = new["start_date"]
        elif action == "trial.unblind" and row.trial_id in state.trials:
            trial = state.trials[row.trial_id]
            trial.status = new["status"]
            trial.revealed = (",".join(new["sequence"]), new["salt"])
        elif action == "stopping.decision" and row.trial_id in state.trials and new.get("trial_status"):
            state.trials[row.trial_id].status = new["trial_status"]  # the adaptive rule said "complete"
        elif action == "trial.withdraw" and row.trial_id in state.trials:
            state.trials[row.trial_id].status = new["status"]
        elif action == "trial.flag" and row.trial_id in state.trials:
            state.trials[row.trial_id].flags = list(new)
        elif action.startswith("diary."):
            day, _, version = row.entity_id.partition("#v")
            state.diary[(row.trial_id or "", day, int(version))] = {
                "seq": row.seq,
                "kind": action.removeprefix("diary."),
                "values": new.get("values"),
                "late": bool(new.get("late")),
                "reason": row.reason,
            }
    return state


def differences(session: Session) -> Iterator[str]:
    """Every way the tables differ from the replayed audit trail, most basic first."""
    state = replay(session)
    yield from _accounts(session, state)
    yield from _keys(session, state)
    yield from _trials(session, state)
    yield from _diary(session, state)
    yield from checkin_replay.differences(session)  # blinding-check answers and stopping decisions
    yield from clinic_replay.differences(session)  # co-interventions, measurements, late-entry approvals
    yield from consent_differences(session)  # consent versions, signatures, withdrawals
    yield from amendment_replay.differences(session)  # amendments and the sealed orders of added cycles


def _accounts(session: Session, state: ReplayState) -> Iterator[str]:
    rows = {r.name: r.role for r in session.execute(select(AccountRow)).scalars()}
    for name, role in sorted(rows.items()):
        if name not in state.accounts:
            yield f"account {name!r} is in the table but no audit event created it (inserted by hand?)"
        elif state.accounts[name] != role:
            yield f"account {name!r} has role {role!r} in the table; the audit trail says {state.accounts[name]!r}"
    for name in sorted(set(state.accounts) - set(rows)):
        yield f"account {name!r} was created (audited) but is missing from the table (deleted?)"


def _keys(session: Session, state: ReplayState) -> Iterator[str]:
    for row in session.execute(select(UnblindingKeyRow)).scalars():
        event = state.keys.get(row.fingerprint)
        if event is None:
            yield f"unblinding key {row.fingerprint[:16]} is in the table but was never registered (audited)"
        elif (row.purpose, row.owner, row.public_key) != (event["purpose"], event["owner"], event["public_key"]):
            yield f"unblinding key {row.fingerprint[:16]} differs from its registration in the audit trail"


def _clean(protocol: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in protocol.items() if v is not None}


def _trials(session: Session, state: ReplayState) -> Iterator[str]:
    seen = set()
    for row in session.execute(select(TrialRow).order_by(TrialRow.id)).scalars():
        seen.add(row.id)
        trial = state.trials.get(row.id)
        if trial is None:
            yield f"trial {row.id} is in the table but no audit event created it (inserted by hand?)"
            continue
        where = f"trial {row.id}"
        if row.status != trial.status:
            yield f"{where}: status is {row.status!r} in the table; the audit trail says {trial.status!r}"
        table = {
            "participant": row.participant,
            "clinician": row.clinician,
            "pharmacist": row.pharmacist,
            "simulated": row.simulated,
            "start_date": row.start_date.isoformat(),
            "commitment": row.commitment,
        }
        for name, value in table.items():
            expected = trial.fields.get(name)
            if expected is not None and expected != value:
                yield f"{where}: {name} is {value!r} in the table; the audit trail says {expected!r}"
        if _clean(json.loads(row.protocol)) != _clean(trial.protocol):
            changed = sorted(
                k
                for k in set(trial.protocol) | set(json.loads(row.protocol))
                if json.loads(row.protocol).get(k) != trial.protocol.get(k)
            )
            yield f"{where}: the protocol differs from the audit trail ({', '.join(changed)})"
        if trial.flags is not None and json.loads(row.flags) != trial.flags:
            yield f"{where}: its safety flags differ from the audit trail"
        yield from _sealed(session.get(SealedAllocationRow, row.id), trial, where)
    for trial_id in sorted(set(state.trials) - seen):
        yield f"trial {trial_id} was created (audit event {state.trials[trial_id].seq}) but is missing (deleted?)"


def _sealed(sealed: SealedAllocationRow | None, trial: _Trial, where: str) -> Iterator[str]:
    if sealed is None:
        yield f"{where}: its sealed allocation is missing"
        return
    digest = trial.fields.get("sealed_sha256")
    if digest is not None and (sealed.sealed is None or sha256_text(sealed.sealed) != digest):
        yield f"{where}: the sealed allocation is not the one sealed at creation (swapped or edited)"
    revealed = (sealed.revealed_sequence, sealed.revealed_salt) if sealed.revealed_sequence else None
    if revealed != trial.revealed:
        yield f"{where}: the revealed allocation differs from the unblinding recorded in the audit trail"


def _diary(session: Session, state: ReplayState) -> Iterator[str]:
    seen = set()
    rows = session.execute(
        select(DiaryVersionRow).order_by(DiaryVersionRow.trial_id, DiaryVersionRow.day, DiaryVersionRow.version)
    ).scalars()
    for row in rows:
        key = (row.trial_id, row.day.isoformat(), row.version)
        seen.add(key)
        where = f"diary of trial {row.trial_id}, {key[1]} version {row.version}"
        event = state.diary.get(key)
        if event is None:
            yield f"{where} is in the table but has no audit event (inserted by hand?)"
            continue
        values = json.loads(row.values) if row.values else None
        if values != event["values"]:
            stored, audited = values or {}, event["values"] or {}
            changed = sorted(k for k in stored if audited.get(k) != stored.get(k)) or ["all"]
            yield f"{where}: {', '.join(changed)} differ(s) from audit event {event['seq']} (edited in the table)"
        elif (row.kind, bool(row.late), row.reason) != (event["kind"], event["late"], event["reason"]):
            yield f"{where}: kind, late flag or reason differ from audit event {event['seq']}"
    for key in sorted(set(state.diary) - seen):
        yield f"diary of trial {key[0]}, {key[1]} version {key[2]} is in the audit trail but missing (deleted?)"
