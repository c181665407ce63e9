"""The CENT timeline diagram: run-in, periods, washouts, packs; arms only after unblinding; unique ids."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import xml.etree.ElementTree as ET

from magtrial.core.allocation import Allocation, possible_sequences
from magtrial.core.record import TrialRecord
from magtrial.report.render import render_html
from magtrial.report.timeline import timeline_svg

from .helpers import sample_protocol

START = dt.date(2026, 1, 5)
AT = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def record(**changes: object) -> TrialRecord:
    p = sample_protocol(washout_days=2, **changes)
    return TrialRecord("mt-00000001", "P-1", p, START, "0" * 64, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "active")


def rects(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [r.findtext("{http://www.w3.org/2000/svg}title") for r in root.iter("{http://www.w3.org/2000/svg}rect")]


def test_run_in_periods_washouts_and_packs_are_drawn():
    svg = timeline_svg(record())
    titles = rects(svg)
    assert titles[0] == "run-in"
    assert [t for t in titles if t.startswith("period")] == [f"period {n}, pack {n}" for n in range(1, 7)]
    assert titles.count("washout") == 5
    assert "05 Jan 2026" in svg and "Blinded: packs only." in svg


def test_blinded_timeline_is_the_same_for_every_order_and_unblinded_shows_arms():
    blinded = record()
    svg = timeline_svg(blinded)
    sequences = list(possible_sequences(blinded.protocol.design, blinded.protocol.cycles))
    unblinded = [
        timeline_svg(dataclasses.replace(blinded, allocation=Allocation(blinded.protocol.design, s, "ab" * 32)))
        for s in sequences
    ]
    assert "magnesium" not in svg and "placebo" not in svg
    assert len(set(unblinded)) == len(sequences)  # the unblinded diagram does show the order
    assert "period 1, pack 1 (magnesium)" in unblinded[0] and "A = magnesium, B = matched placebo" in unblinded[0]
    later = dataclasses.replace(blinded, allocation=None, status="unblinded")
    assert timeline_svg(later) == svg


def test_markers_for_co_interventions_and_protocol_versions():
    svg = timeline_svg(record(), [(dt.date(2026, 1, 20), "IV magnesium 2 g"), (dt.date(2030, 1, 1), "outside")])
    assert "20 Jan: IV magnesium 2 g" in svg and "outside" not in svg
    p = record().protocol
    amended = dataclasses.replace(
        record(),
        protocol=p.with_changes(
            period_days=10,
            earlier_versions=({"version": 1, "until_period": 2, "protocol": p.to_dict()},),
        ),
    )
    svg = timeline_svg(amended)
    assert "protocol v2" in svg


def test_ids_are_unique_within_the_report_and_prefixed():
    svg = timeline_svg(record(), id_prefix="tl")
    ids = re.findall(r'\bid="([^"]+)"', svg)
    assert ids and all(i.startswith("tl") for i in ids) and len(ids) == len(set(ids))
    html = render_html(record(), generated_at=AT)
    all_ids = re.findall(r'\bid="([^"]+)"', html)
    assert "chart-timeline" in all_ids and len(all_ids) == len(set(all_ids))


def test_the_report_timeline_marks_recorded_co_interventions(clinician, running_trial):
    from magtrial.service import clinic, trials

    day = dt.date.today() - dt.timedelta(days=2)
    clinic.add_co_intervention(clinician, running_trial.trial_id, day, "rescue-medication", "paracetamol 1 g")
    html = render_html(trials.record(clinician, running_trial.trial_id), generated_at=AT)
    assert f"{day:%d %b}: rescue-medication: paracetamol 1 g" in html
