"""Consent through the services, on SQLite and PostgreSQL: versioned text, a typed-name signature with a frozen
copy of the page, and re-consent blocking diary entries until the new version is signed."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from magtrial.core.consent import MEANING, ConsentRequired
from magtrial.core.diary import DiaryValues
from magtrial.errors import Conflict, Forbidden, NotFound, ValidationError
from magtrial.service import audit, consent, diary

TEXT_V1 = "You will take eight packs in a random order.\n\nYou may stop at any time."
TEXT_V2 = "You will take ten packs in a random order (amended).\n\nYou may stop at any time."


def _entry(patient, tid: str, back: int = 1):  # type: ignore[no-untyped-def]
    return diary.add_entry(patient, tid, dt.date.today() - dt.timedelta(days=back), DiaryValues(5, 6, 2))


def test_a_trial_without_consent_text_takes_entries_as_before(running_trial, patient):
    assert not consent.show(patient, running_trial.trial_id).status.needs_signature
    _entry(patient, running_trial.trial_id)


def test_re_consent_blocks_entries_until_signed(db, clinician, running_trial, patient):
    tid = running_trial.trial_id
    assert consent.set_text(clinician, tid, TEXT_V1) == 1
    with pytest.raises(ConsentRequired, match=r"sign the consent \(version 1\) before adding diary entries"):
        _entry(patient, tid, back=3)
    consent.sign(patient, tid, 1, "Ann Lee")
    _entry(patient, tid, back=3)

    assert consent.set_text(clinician, tid, TEXT_V2) == 2
    before = audit.head(clinician)
    with pytest.raises(ConsentRequired, match=r"a new version of the consent \(version 2\)"):
        _entry(patient, tid, back=2)
    with pytest.raises(ConsentRequired):
        diary.correct_entry(patient, tid, dt.date.today() - dt.timedelta(days=3), {"average_pain": 4}, reason="typo")
    assert audit.head(clinician) == before  # nothing stored
    view = consent.show(patient, tid)
    assert view.status.is_reconsent and view.version == 2 and view.text == TEXT_V2 and view.signed_at is None
    consent.sign(patient, tid, 2, "Ann Lee")
    _entry(patient, tid, back=2)
    assert audit.verify(clinician).ok


def test_the_frozen_copy_is_exactly_what_was_signed(db, clinician, running_trial, patient):
    tid = running_trial.trial_id
    consent.set_text(clinician, tid, TEXT_V1 + "\n\n<script>alert(1)</script>")
    digest = consent.sign(patient, tid, 1, "  Zoë   O'Neill ")
    html = consent.frozen_copy(clinician, tid, 1).decode("utf-8")
    assert hashlib.sha256(html.encode("utf-8")).hexdigest() == digest
    assert "Zoë O&#39;Neill" in html and MEANING in html and "version 1" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    event = audit.trail(clinician, tid)[-1]
    assert event.action == "consent.sign" and event.new["html_sha256"] == digest
    assert event.new["typed_name"] == "Zoë O'Neill"
    consent.set_text(clinician, tid, TEXT_V2)  # a new version does not change what was signed
    assert consent.frozen_copy(patient, tid, 1).decode("utf-8") == html


def test_the_pdf_is_laid_out_from_the_stored_page(db, clinician, running_trial, patient):
    tid = running_trial.trial_id
    consent.set_text(clinician, tid, TEXT_V1)
    consent.sign(patient, tid, 1, "Ann Lee")
    pdf = consent.frozen_copy(patient, tid, fmt="pdf")
    assert pdf.startswith(b"%PDF-")


def test_bad_signatures_change_nothing(db, clinician, pharmacist, running_trial, patient):
    tid = running_trial.trial_id
    with pytest.raises(Conflict, match="no consent text"):
        consent.sign(patient, tid, 1, "Ann Lee")
    consent.set_text(clinician, tid, TEXT_V1)
    before = audit.head(clinician)
    with pytest.raises(ValidationError, match="type your full name"):
        consent.sign(patient, tid, 1, "   ")
    with pytest.raises(Conflict, match="not the current one"):
        consent.sign(patient, tid, 2, "Ann Lee")
    with pytest.raises(Forbidden):
        consent.sign(clinician, tid, 1, "Dr Lee")
    with pytest.raises(Forbidden):
        consent.set_text(patient, tid, "my own text")
    with pytest.raises(ValidationError, match="empty"):
        consent.set_text(clinician, tid, "  ")
    with pytest.raises(Conflict, match="already consent version 1"):
        consent.set_text(clinician, tid, TEXT_V1)
    with pytest.raises(NotFound):
        consent.frozen_copy(patient, tid)
    with pytest.raises(Forbidden):
        consent.frozen_copy(pharmacist, tid)
    assert audit.head(clinician) == before
    consent.sign(patient, tid, 1, "Ann Lee")
    with pytest.raises(Conflict, match="already signed"):
        consent.sign(patient, tid, 1, "Ann Lee")


def test_the_cli_sets_shows_signs_and_withdraws(run, tmp_path):
    from tests.helpers import setup_clinic
    from tests.test_cli import create

    setup_clinic(run, tmp_path)
    trial, _ = create(run)
    text_file = tmp_path / "consent.txt"
    text_file.write_text(TEXT_V1, encoding="utf-8")
    assert "Consent version 1 set" in run("consent", "set", trial, "--file", text_file).output
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    blocked = run("--user", "P-9", "diary", "add", trial, "--date", yesterday, "--avg", "5", ok=False)
    assert blocked.exit_code == 1 and "sign the consent (version 1)" in blocked.output
    shown = run("--user", "P-9", "consent", "show", trial).output
    assert "eight packs" in shown and "Not signed yet" in shown
    signed = run("--user", "P-9", "consent", "sign", trial, "--version", "1", "--name", "Pat Nine").output
    assert "Signed consent version 1" in signed
    run("--user", "P-9", "diary", "add", trial, "--date", yesterday, "--avg", "5")
    run("consent", "copy", trial, "-o", tmp_path / "signed.html")
    assert "Pat Nine" in (tmp_path / "signed.html").read_text(encoding="utf-8")
    neither = run("--user", "P-9", "trial", "withdraw", trial, ok=False)
    assert neither.exit_code == 1 and "choose one" in neither.output
    out = run("--user", "P-9", "trial", "withdraw", trial, "--erase", "--yes").output
    assert "Withdrawn and erased: 1 consent_signatures, 1 diary_versions deleted" in out
    assert "Audit chain intact" in run("audit", "verify").output


def test_audit_verify_catches_a_swapped_signature_or_changed_withdrawal(db, clinician, running_trial, patient):
    from sqlalchemy import text

    from magtrial.service import withdrawal

    tid = running_trial.trial_id
    consent.set_text(clinician, tid, TEXT_V1)
    consent.sign(patient, tid, 1, "Ann Lee")
    withdrawal.withdraw(patient, tid, "keep")
    assert audit.verify(clinician).ok
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE consent_signatures SET html = replace(html, 'Ann Lee', 'Bob Roe')"))
    report = audit.verify(clinician)
    assert not report.ok and "signed consent (v1)" in report.problem
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE consent_signatures SET html = replace(html, 'Bob Roe', 'Ann Lee')"))
        conn.execute(text("UPDATE consent_versions SET text = 'something else'"))
    report = audit.verify(clinician)
    assert not report.ok and "consent version 1" in report.problem
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE consent_versions SET text = :t"), {"t": TEXT_V1})
        conn.execute(text("UPDATE withdrawals SET choice = 'erase'"))
    report = audit.verify(clinician)
    assert not report.ok and "withdrawal from trial" in report.problem
