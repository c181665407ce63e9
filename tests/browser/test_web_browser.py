"""A real browser on a phone-sized screen: the demo participant records today's entry in at most 4 taps,
sees it in the history chart, corrects it with a reason; the clinician sees it. Axe-core checks the
participant pages. Screenshots go to ``$MAGTRIAL_ARTIFACTS`` (default ``test-artifacts/``).

Debian's chromium drives the test (``/usr/bin/chromium``; ``.ci/run`` installs it). Without it the
test is skipped with the reason, except in CI (``CI`` set), where it must run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

CHROMIUM = Path(os.environ.get("MAGTRIAL_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(os.environ.get("MAGTRIAL_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
MAX_TAPS = 4

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"CI is set but {CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); CI runs this test", allow_module_level=True)

if os.environ.get("CI"):
    import playwright.sync_api as playwright
else:
    playwright = pytest.importorskip("playwright.sync_api")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """``magtrial serve --demo``'s database and app, served by uvicorn on a free loopback port."""
    import uvicorn

    from magtrial.cli.serve import build_demo
    from magtrial.settings import Settings
    from magtrial.web.app import create_app

    data = tmp_path_factory.mktemp("web-demo")
    demo = build_demo(data)
    app = create_app(Settings(data_dir=data, database_url=demo.url))
    port = free_port()
    uv = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", timeout_graceful_shutdown=1
        )
    )
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield {"url": f"http://127.0.0.1:{port}", "demo": demo}
    uv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


def shot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def serious(page, name: str) -> list[dict]:  # type: ignore[no-untyped-def]
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    violations = results.response["violations"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"axe-{name}.json").write_text(json.dumps(violations, indent=2), encoding="utf-8")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


def login(page, base: str, name: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("button[type=submit].primary")
    page.wait_for_load_state()


def test_participant_records_corrects_and_the_clinician_sees_it_on_a_phone(server, browser) -> None:  # type: ignore[no-untyped-def]
    base, demo = server["url"], server["demo"]
    trial = demo.trial_id
    today = dt.datetime.now(ZoneInfo("Europe/London")).date().isoformat()
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    csp_errors: list[str] = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    login(page, base, "DEMO-001", demo.logins["DEMO-001"])
    assert page.url.endswith(f"/diary/{trial}")
    assert "take pack 3" in page.inner_text(".instruction")
    shot(page, "01-participant-today")
    problems = {"today": serious(page, "today")}

    taps = 0

    def tap(selector: str) -> None:
        nonlocal taps
        page.click(selector)
        taps += 1

    started = time.monotonic()
    tap("label[for=average_pain-5]")
    tap("label[for=worst_pain-7]")
    tap("label[for=sleep_interference-3]")
    tap("#save")
    page.wait_for_load_state()
    elapsed = time.monotonic() - started
    assert taps <= MAX_TAPS
    assert elapsed < 15
    assert page.inner_text("h1") == "Saved" or "Saved" in page.inner_text("main")
    assert "Receipt:" in page.inner_text(".receipt")
    shot(page, "02-participant-saved")
    problems["saved"] = serious(page, "saved")

    page.goto(f"{base}/diary/{trial}/history")
    point = page.locator(f'circle[data-day="{today}"]')
    assert point.count() == 1
    assert "average 5, worst 7, sleep 3" in point.locator("title").text_content()
    shot(page, "03-participant-history")
    problems["history"] = serious(page, "history")

    page.click(f"#entry-{today} a")
    page.wait_for_load_state()
    assert page.is_checked("#average_pain-5") and page.is_checked("#worst_pain-7")
    page.focus("#average_pain-5")  # keyboard: arrows move within a group of score buttons
    page.keyboard.press("ArrowLeft")
    assert page.is_checked("#average_pain-4")
    page.fill("#reason", "tapped 5 by mistake")
    problems["correct"] = serious(page, "correct")
    page.click("button.save")
    page.wait_for_load_state()
    assert "Correction saved" in page.inner_text("h1")
    page.goto(f"{base}/diary/{trial}/history")
    entry = page.inner_text(f"#entry-{today}")
    assert "average 4, worst 7" in entry and "corrected: tapped 5 by mistake" in entry
    assert "average 4, worst 7" in page.locator(f'circle[data-day="{today}"] title').text_content()
    shot(page, "04-participant-corrected")

    page.goto(f"{base}/diary/{trial}?day={(dt.date.fromisoformat(today) - dt.timedelta(days=1)).isoformat()}")
    problems["yesterday"] = serious(page, "yesterday")
    assert {name: found for name, found in problems.items() if found} == {}
    assert csp_errors == []

    page.click("button.link")  # log out
    page.wait_for_load_state()
    login(page, base, "demo-clinician", demo.logins["demo-clinician"])
    page.goto(f"{base}/clinic/trials/{trial}")
    row = page.inner_text(f"#entry-{today}")
    assert "4\t7\t3" in row and "corrected: tapped 5 by mistake" in row
    shot(page, "05-clinician-trial")
    page.goto(f"{base}/clinic")
    assert trial in page.inner_text("main")
    shot(page, "06-clinician-participants")

    page.goto(f"{base}/clinic/new")  # the live safety check: HTMX (vendored, CSP 'self') posts with the CSRF header
    page.fill("#participant", "P-100")
    page.fill("#age", "50")
    page.fill("#egfr", "45")
    page.locator("#egfr").dispatch_event("change")
    page.wait_for_selector("#safety-result >> text=must acknowledge", timeout=10_000)
    shot(page, "07-clinician-new-trial-safety")
    assert csp_errors == []
    context.close()
