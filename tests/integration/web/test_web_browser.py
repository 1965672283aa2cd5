"""The page in a real browser: Playwright driving Debian's chromium (never a downloaded one)
against the dashboard served by :class:`WebServer` on a free port.

Screenshots go to ``test-artifacts/web/`` (ignored by git). ``LAICAI_DOCS_SCREENSHOT=1``
also refreshes ``docs/images/dashboard.png`` for the README.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright, expect
from web_operator_support import TOKEN, RecordingOperator, ScriptedOperator

from laicai.domain.enums import Direction
from laicai.execution.events import CarryOpened
from laicai.web import WebServer

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[3]
ARTIFACTS = REPO / "test-artifacts" / "web"
DOCS_IMAGE = REPO / "docs" / "images" / "dashboard.png"

# One browser for the module (launching chromium is the slow part), so everything here runs
# in the module's event loop; each test still gets its own operator, server and tab.
pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs Debian's chromium at /usr/bin/chromium (apt-get install "
                              "chromium; .ci/run installs it)"),
    pytest.mark.asyncio(loop_scope="module"),
]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                            args=["--no-sandbox"])
        yield launched
        await launched.close()


@pytest_asyncio.fixture(loop_scope="module")
async def server(operator: RecordingOperator) -> AsyncIterator[WebServer]:
    async with WebServer(operator, host="127.0.0.1", port=0, token=TOKEN) as srv:
        yield srv


@pytest_asyncio.fixture(loop_scope="module")
async def page(browser: Browser, server: WebServer) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1440, "height": 1000},
                                        device_scale_factor=1)
    tab = await context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.on("console", lambda m: errors.append(m.text)
           if m.type == "error" and "status of 401" not in m.text else None)  # wrong token
    await tab.goto(server.url + "/")
    try:
        yield tab
    finally:
        await context.close()
    assert errors == [], errors  # no script error, no CSP violation, no missing file


async def shoot(page: Page, tmp_path: Path, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(target), full_page=True)
    (tmp_path / target.name).write_bytes(target.read_bytes())
    return target


async def test_page_shows_state_positions_and_charts(page: Page, operator: RecordingOperator,
                                                     tmp_path: Path) -> None:
    positions = await operator.positions()
    curve = await operator.equity_curve(1000)
    rows = page.locator("#positions tbody tr")
    await expect(rows).to_have_count(len(positions))
    await expect(page.locator("#state")).to_have_text("IDLE")
    await expect(page.locator("#live")).to_have_text("live")
    for p, row in zip(positions, await rows.all(), strict=True):
        assert await row.get_attribute("data-position-id") == str(p.id)
        text = await row.inner_text()
        assert p.symbol in text and p.direction in text and p.margin_level in text
        bar = row.locator("svg.margin-bar")
        assert await bar.get_attribute("data-ratio") == str(p.margin_ratio)
        assert await bar.locator("rect").count() == 5  # four ladder zones and the marker
    # the first row's PnL cell shows the view's total
    first_pnl = await rows.nth(0).locator("td.pnl").inner_text()
    assert first_pnl == f"+{positions[0].pnl_usdt:,.2f}"

    equity = page.locator("#equity-chart path.series-equity")
    assert await equity.get_attribute("data-points") == str(len(curve))
    d = await equity.get_attribute("d") or ""
    assert d.count("L") == len(curve) - 1
    ys = [float(y) for y in re.findall(r"[ML][\d.]+,([\d.]+)", d)]
    assert len(set(ys)) > 10  # a drawn curve, not a flat line
    for cls in ("income", "costs", "net"):
        line = page.locator(f"#income-chart path.series-{cls}")
        assert await line.get_attribute("data-points") == str(len(curve))
    bars = page.locator("#pnl-chart rect.bar")
    await expect(bars).to_have_count(6)
    pnl = await operator.pnl()
    total_bar = page.locator("#pnl-chart rect.bar-total")
    assert Decimal(await total_bar.get_attribute("data-value") or "nan") == pytest.approx(
        pnl.total.total)

    await expect(page.locator("#resets tbody tr")).to_have_count(len(await operator.resets()))
    await expect(page.locator("#scan tbody tr")).to_have_count(2)
    await expect(page.locator("#alerts li")).to_have_count(len(await operator.alerts()))
    await expect(page.locator("#log")).to_contain_text(operator.log_tail(1)[0])
    await expect(page.locator("#controls-note")).to_be_hidden()

    shot = await shoot(page, tmp_path, "dashboard")
    if os.environ.get("LAICAI_DOCS_SCREENSHOT"):
        DOCS_IMAGE.parent.mkdir(parents=True, exist_ok=True)
        DOCS_IMAGE.write_bytes(shot.read_bytes())


async def test_controls_ask_for_the_token_and_act(page: Page, operator: RecordingOperator,
                                                  scripted: ScriptedOperator,
                                                  tmp_path: Path) -> None:
    await expect(page.locator("#positions tbody tr")).to_have_count(3)
    result = page.locator("#command-result")
    token_dialog = page.locator("#token-dialog")

    # pause: the token is asked for; a wrong one is refused by the API and forgotten
    await page.click("#btn-pause")
    await expect(token_dialog).to_be_visible()
    await page.fill("#token-input", "not-the-token")
    await page.click("#token-ok")
    await expect(result).to_contain_text("wrong dashboard token (HTTP 401)")
    assert operator.calls == []
    await page.click("#btn-pause")
    await expect(token_dialog).to_be_visible()
    await page.fill("#token-input", TOKEN)
    await page.click("#token-ok")
    await expect(result).to_contain_text("pause: paused")
    assert operator.names() == ["pause"]
    await expect(page.locator("#state")).to_have_text("PAUSED")  # re-read after the command
    await shoot(page, tmp_path, "paused")

    # close one: confirmation, then the token kept in this tab (no second prompt)
    await page.click("tr[data-position-id='2'] button.close-position")
    await expect(page.locator("#confirm-dialog")).to_be_visible()
    await expect(page.locator("#confirm-title")).to_have_text("Close #2 ETH-USDT?")
    await page.click("#confirm-ok")
    await expect(result).to_contain_text("close #2: closing #2 ETH-USDT (HTTP 200)")
    await expect(token_dialog).to_be_hidden()
    assert [(c.name, c.args[0]) for c in operator.calls[1:]] == [("close_position", 2)]
    await expect(page.locator("#positions tbody tr")).to_have_count(2)

    # close all: cancel sends nothing, confirm sends it
    await page.click("#btn-close-all")
    await expect(page.locator("#confirm-title")).to_have_text("Close ALL carries and stop?")
    await expect(page.locator("#confirm-text")).to_contain_text("2 open")
    await shoot(page, tmp_path, "close-all-confirm")
    await page.click("#confirm-cancel")
    await expect(result).to_contain_text("cancelled, nothing was sent")
    assert "close_all" not in operator.names()
    await page.click("#btn-close-all")
    await page.click("#confirm-ok")
    await expect(result).to_contain_text("close all: closing all 2 carries")
    assert operator.names()[-1] == "close_all"
    assert scripted.state == "EMERGENCY"
    await expect(page.locator("#state")).to_have_text("EMERGENCY")


async def test_live_events_refresh_the_page(page: Page, scripted: ScriptedOperator) -> None:
    await expect(page.locator("#live")).to_have_text("live")
    await expect(page.locator("#positions tbody tr")).to_have_count(3)
    scripted.open_positions.pop(3)
    scripted.bus.publish(CarryOpened(ts=datetime(2026, 1, 9, tzinfo=UTC), position_id=9,
                                     symbol="SOL-USDT", direction=Direction.SHORT,
                                     base_qty=Decimal(3), spot_px=Decimal(180),
                                     perp_px=Decimal("180.2"), fees_usdt=Decimal("0.5")))
    await expect(page.locator("#last-event")).to_contain_text("CarryOpened SOL-USDT #9")
    await expect(page.locator("#positions tbody tr")).to_have_count(2)  # re-read, no reload


async def test_a_public_dashboard_works_behind_its_token(browser: Browser,
                                                         operator: RecordingOperator) -> None:
    """On a non-loopback address the browser logs in once (HTTP Basic, the token as password)
    and the page, its script, the API and the event stream all work; without it, nothing."""
    async with WebServer(operator, host="0.0.0.0", port=0, token=TOKEN) as public:
        url = f"http://127.0.0.1:{public.port}/"
        stranger = await browser.new_context()
        try:
            for path in ("", "static/dashboard.js", "api/positions", "api/events"):
                refused = await stranger.request.get(url + path)
                assert refused.status == 401, path
        finally:
            await stranger.close()
        context = await browser.new_context(
            http_credentials={"username": "operator", "password": TOKEN})
        try:
            tab = await context.new_page()
            response = await tab.goto(url)
            assert response is not None and response.status == 200
            await expect(tab.locator("#positions tbody tr")).to_have_count(3)
            await expect(tab.locator("#live")).to_have_text("live")
        finally:
            await context.close()
