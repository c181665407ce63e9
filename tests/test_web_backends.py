"""The same pages on both backends (SQLite and a real PostgreSQL): a participant saves, the clinician sees it."""

from __future__ import annotations

import datetime as dt

from tests import test_web_support as support
from tests.test_web_support import Web, post

web = support.web  # the fixture (runs on both database backends)


def test_participant_entry_is_saved_and_the_clinician_sees_it(web: Web) -> None:
    patient = web.login("P-001")
    answer = post(
        patient,
        f"/diary/{web.trial}",
        {"day": dt.date.today().isoformat(), "average_pain": "6", "worst_pain": "8", "sleep_interference": "4"},
    )
    assert answer.status_code == 200 and "Receipt:" in answer.text
    clinic = web.login("dr-lee")
    row = clinic.get(f"/clinic/trials/{web.trial}").text.split(f'id="entry-{dt.date.today().isoformat()}"')[1]
    assert "<td>6</td><td>8</td><td>4</td>" in row.split("</tr>")[0]
    assert clinic.get(f"/diary/{web.trial}").status_code == 403
