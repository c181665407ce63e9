"""The blinding check: Bang's index against a published example; answers append-only, audited, scored once unblinded."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from magtrial.core.allocation import Arm
from magtrial.core.blinding_check import Guess, bang_index, parse_guess, score
from magtrial.errors import Conflict, Forbidden, ValidationError
from magtrial.service import Actor, Context, Role, audit, trials, unblinding
from magtrial.service import blinding_check as service
from tests import test_web_support as support
from tests.helpers import ADULT, sample_protocol
from tests.test_web_support import assert_blinded, post, secrets_of

web = support.web  # the fixture


def test_bang_index_matches_the_crisp_example_of_bang_2004():
    # CRISP, Bang, Ni and Davis 2004 (Controlled Clinical Trials 25:143-156), table 7, as the R package BI's example:
    # R: library(BI); BI(matrix(c(82, 27, 25, 29, 170, 83), nrow = 3, byrow = TRUE))$BangBI
    # rows = guesses (treatment, placebo, don't know), columns = actual arm (treatment, placebo).
    # Hand: treatment arm (82 - 25) / 277 = 0.2058; placebo arm (29 - 27) / 139 = 0.0144.
    treatment = bang_index("treatment", correct=82, incorrect=25, dont_know=170)
    placebo = bang_index("placebo", correct=29, incorrect=27, dont_know=83)
    assert treatment.estimate == pytest.approx(57 / 277, abs=1e-12)
    assert round(treatment.estimate, 2) == 0.21  # the paper's value
    assert placebo.estimate == pytest.approx(2 / 139, abs=1e-12)
    assert round(placebo.estimate, 2) == 0.01
    # The same as the paper's definition before simplifying: (2 * c / (c + w) - 1) * (c + w) / n.
    assert treatment.estimate == pytest.approx((2 * 82 / 107 - 1) * 107 / 277)
    # SE as BI() computes it: sqrt((p1 (1 - p1) + p2 (1 - p2) + 2 p1 p2) / n), p1 = 82/277, p2 = 25/277.
    p1, p2 = 82 / 277, 25 / 277
    assert treatment.se == pytest.approx(((p1 * (1 - p1) + p2 * (1 - p2) + 2 * p1 * p2) / 277) ** 0.5)


def test_bang_index_ends_of_the_scale():
    assert bang_index("a", 5, 0, 0).estimate == 1.0  # all right: unblinded
    assert bang_index("a", 0, 5, 0).estimate == -1.0  # all wrong
    assert bang_index("a", 0, 0, 5).estimate == 0.0  # all don't know
    assert bang_index("a", 0, 0, 0).estimate is None
    with pytest.raises(ValidationError):
        bang_index("a", -1, 0, 0)


def test_score_counts_this_pack_right_in_magnesium_periods_and_the_other_right_in_comparator_periods():
    on_mag = {1: True, 2: False, 3: False, 4: True}
    guesses = {1: Guess.THIS, 2: Guess.OTHER, 3: Guess.THIS, 4: Guess.DONT_KNOW}
    mag, comp = score(guesses, on_mag)
    assert (mag.correct, mag.incorrect, mag.dont_know) == (1, 0, 1)
    assert (comp.correct, comp.incorrect, comp.dont_know) == (1, 1, 0)
    assert mag.estimate == 0.5 and comp.estimate == 0.0
    with pytest.raises(ValidationError, match="period 9"):
        score({9: Guess.THIS}, on_mag)


@pytest.mark.parametrize("text", ["this", "OTHER", "dont-know", "don't know", "dont_know"])
def test_guesses_are_read_as_people_send_them(text):
    assert parse_guess(text) in set(Guess)


@pytest.mark.parametrize("text", ["yes", "", 1, None, "magnesium"])
def test_other_answers_are_refused_with_the_choices(text):
    with pytest.raises(ValidationError, match="this, other or dont-know"):
        parse_guess(text)


def _trial_with_ended_periods(clinician: Context):  # type: ignore[no-untyped-def]
    # run-in 3 days, 7-day periods: started 18 days ago, so periods 1 and 2 have ended (day 3-9, 10-16).
    start = dt.date.today() - dt.timedelta(days=18)
    return trials.create_trial(clinician, sample_protocol(), "P-001", ADULT, start_date=start).trial_id


def test_participant_answers_each_ended_period_once_and_each_answer_is_audited(db, clinician):
    trial = _trial_with_ended_periods(clinician)
    patient = Context(db, Actor("P-001", Role.PATIENT))
    assert service.pending_period(patient, trial) == 1
    service.record_guess(patient, trial, 1, "this")
    assert service.pending_period(patient, trial) == 2
    service.record_guess(patient, trial, 2, Guess.DONT_KNOW)
    assert service.pending_period(patient, trial) is None
    with pytest.raises(Conflict, match="already has an answer"):
        service.record_guess(patient, trial, 1, "other")
    with pytest.raises(ValidationError, match="not ended"):
        service.record_guess(patient, trial, 3, "this")
    with pytest.raises(ValidationError, match="from 1 to 6"):
        service.record_guess(patient, trial, 7, "this")
    with pytest.raises(Forbidden):
        service.record_guess(clinician, trial, 2, "this")
    view = service.check(clinician, trial)
    assert [(a.period, a.guess) for a in view.answers] == [(1, Guess.THIS), (2, Guess.DONT_KNOW)]
    assert view.indices is None  # blinded: raw answers only
    events = [e for e in audit.trail(clinician, trial) if e.action == "blinding.guess"]
    assert [e.new["period"] for e in events] == [1, 2]
    assert audit.verify(clinician).ok


def test_bang_index_appears_only_after_unblinding(db, clinician, pharmacist, pharm_key, emergency_key):
    trial = _trial_with_ended_periods(clinician)
    patient = Context(db, Actor("P-001", Role.PATIENT))
    packs = dict(unblinding.packs(pharmacist, trial, pharm_key))
    truth = {1: packs[1] == Arm.MAGNESIUM.value, 2: packs[2] == Arm.MAGNESIUM.value}
    # Period 1 guessed right, period 2 guessed wrong, whatever the allocation is.
    service.record_guess(patient, trial, 1, "this" if truth[1] else "other")
    service.record_guess(patient, trial, 2, "other" if truth[2] else "this")
    blinded_text = service.check(patient, trial).text
    assert "Bang" not in blinded_text and "right" not in blinded_text
    unblinding.unblind(clinician, trial, emergency_key, reason="test")
    view = service.check(clinician, trial)
    assert view.indices is not None
    by_arm = {i.arm: i for i in view.indices}
    # One right (+1) and one wrong (-1) answer, each in its own arm (periods 1 and 2 of cycle 1 differ).
    assert sorted(i.estimate for i in view.indices) == [-1.0, 1.0]
    assert by_arm["Magnesium periods"].n == by_arm["Comparator periods"].n == 1
    with pytest.raises(Conflict, match="unblinded"):
        service.record_guess(patient, trial, 3, "this")


def test_open_trials_have_no_blinding_check(db, clinician):
    from magtrial.core.protocol import Blinding, Comparator, Product, Route

    product = Product(name="Cream", salt="chloride", route=Route.CREAM, elemental_mg_per_unit=50.0)
    protocol = sample_protocol(product=product, comparator=Comparator.NONE, blinding=Blinding.OPEN)
    start = dt.date.today() - dt.timedelta(days=18)
    trial = trials.create_trial(clinician, protocol, "P-001", ADULT, start_date=start).trial_id
    patient = Context(db, Actor("P-001", Role.PATIENT))
    assert service.pending_period(patient, trial) is None
    with pytest.raises(ValidationError, match="open"):
        service.record_guess(patient, trial, 1, "this")


# --- the pages: three buttons on the participant's Today page, raw answers for the clinician ---------------

WEB = pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # both backends: the service tests above


@WEB
def test_today_asks_after_a_period_ends_and_one_tap_answers(web, pharmacist, pharm_key):  # type: ignore[no-untyped-def]
    client = web.login("P-001")
    page = client.get(f"/diary/{web.trial}").text  # started 10 days ago: pack 1 (days 4-10) has ended
    form = page.split('id="blinding-check"')[1].split("</form>")[0]
    assert "Pack 1 is finished. Which pack do you think held magnesium?" in form
    assert [m for m in ("this", "other", "dont-know") if f'name="guess" value="{m}"' in form] == [
        "this",
        "other",
        "dont-know",
    ]
    answered = post(client, f"/diary/{web.trial}/blinding-check", {"pack": "1", "guess": "other"})
    assert answered.status_code == 200 and str(answered.url).endswith(f"/diary/{web.trial}")
    assert 'id="blinding-check"' not in answered.text  # pack 2 has not ended
    again = post(client, f"/diary/{web.trial}/blinding-check", {"pack": "1", "guess": "this"})
    assert again.status_code == 409 and "already has an answer" in again.text
    for bad in ({"pack": "1", "guess": "magnesium"}, {"pack": "x", "guess": "this"}, {"pack": "5", "guess": "this"}):
        assert post(client, f"/diary/{web.trial}/blinding-check", bad).status_code == 422
    clinician = web.login("dr-lee")
    view = clinician.get(f"/clinic/trials/{web.trial}/blinding-check")
    assert view.status_code == 200 and "pack 1</td><td>The other pack" in view.text
    assert "Bang's blinding index" not in view.text and "scored only after unblinding" in view.text
    hidden = secrets_of(web, pharmacist, pharm_key)
    for text in (page, answered.text, view.text):
        assert_blinded(text, hidden)
    assert clinician.get(f"/clinic/trials/{web.trial}").text.count("/blinding-check") == 1
    assert post(clinician, f"/diary/{web.trial}/blinding-check", {"pack": "1", "guess": "this"}).status_code == 403


def test_audit_verify_catches_an_answer_edited_in_the_table(db, clinician):
    from sqlalchemy import update

    from magtrial.store.stopping_models import BlindingGuessRow

    trial = _trial_with_ended_periods(clinician)
    service.record_guess(Context(db, Actor("P-001", Role.PATIENT)), trial, 1, "this")
    assert audit.verify(clinician).ok
    with db.transaction() as s:
        s.execute(update(BlindingGuessRow).values(guess="other"))
    report = audit.verify(clinician)
    assert not report.ok and f"trial {trial} pack 1 blinding-check answer is 'other'" in report.problem


def test_the_report_shows_raw_answers_while_blinded_and_bangs_index_once_unblinded(
    db, clinician, pharmacist, pharm_key, emergency_key
):
    from magtrial.report.build import build_context
    from magtrial.report.render import html_from_context

    trial = _trial_with_ended_periods(clinician)
    service.record_guess(Context(db, Actor("P-001", Role.PATIENT)), trial, 1, "dont-know")
    blinded = build_context(trials.record(clinician, trial), charts=False)
    assert blinded["checkin"]["answers"][:2] == [("pack 1", "Don't know"), ("pack 2", "no answer")]
    assert blinded["checkin"]["indices"] is None
    assert "scored only after unblinding" in html_from_context(blinded)
    unblinding.unblind(clinician, trial, emergency_key, reason="test")
    shown = build_context(trials.record(clinician, trial), charts=False)
    assert any("Bang's index +0.00" in line for line in shown["checkin"]["indices"])  # one don't know: 0
    assert "Bang's blinding index per arm" in html_from_context(shown)


def test_cli_guess_and_show(run, tmp_path):
    from tests.helpers import setup_clinic
    from tests.test_cli import create

    setup_clinic(run, tmp_path)
    trial, _ = create(run)  # started 9 days ago: pack 1 (days 3-9) has ended
    out = run("--user", "P-9", "blinding", "guess", trial, "--pack", "1", "--answer", "dont-know").output
    assert "Pack 1: don't know" in out
    again = run("--user", "P-9", "blinding", "guess", trial, "--pack", "1", "--answer", "this", ok=False)
    assert again.exit_code == 1 and "already has an answer" in again.output
    bad = run("--user", "P-9", "blinding", "guess", trial, "--pack", "1", "--answer", "maybe", ok=False)
    assert bad.exit_code == 1 and "this, other or dont-know" in bad.output
    assert "pack 1: don't know" in run("blinding", "show", trial).output
    shown = json.loads(run("blinding", "show", trial, "--json").output)
    assert shown["answers"] == [{"pack": 1, "guess": "dont-know"}] and shown["bang_index"] is None
