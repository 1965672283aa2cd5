"""The dashboard in a real browser against the real bot: the whole engine in paper mode,
through ccxt against the simulator (manual clock), with its EngineOperator behind the page.
The bot runs 14 simulated hours first (it opens carries, books funding, snapshots equity);
then its runner serves the page's controls on the engine's own task."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright, expect

from laicai.config import load_config
from laicai.config.sections import DatabaseConfig, OkxConfig
from laicai.engine.bot import Bot, build_bot
from laicai.engine.core import EngineSettings
from laicai.engine.runner import run_simulated
from laicai.engine.states import BotState
from laicai.sim.clock import ManualClock
from laicai.sim.exchange import SimExchange
from laicai.sim.market import CurrencyTerms
from laicai.sim.server.app import SimServer
from laicai.store import Store, open_store
from laicai.testing.sim import API_KEY, PASSPHRASE, SECRET, SimTimeClock, make_exchange
from laicai.venues.okx import OkxCredentials, create_exchange
from laicai.web import WebServer

D = Decimal
CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[3]
ARTIFACTS = REPO / "test-artifacts" / "web"
DOCS_IMAGE = REPO / "docs" / "images" / "dashboard.png"
TOKEN = "paper-bot-token-6d1f0b2a9c8e47f3"
HOUR = 3_600_000

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs Debian's chromium at /usr/bin/chromium (apt-get install "
                              "chromium; .ci/run installs it)"),
    pytest.mark.asyncio(loop_scope="module"),
]


def venue() -> SimExchange:
    return make_exchange(
        prices={"BTC": D(60000), "DOGE": D("0.2")},
        funding={"BTC-USDT-SWAP": (D("0.0005"), 8), "DOGE-USDT-SWAP": (D("-0.0008"), 8)},
        currencies={"BTC": CurrencyTerms(earn_apr=D("0.02")),
                    "DOGE": CurrencyTerms(borrow_apr=D("0.10"), borrow_limit=D(10_000_000)),
                    "USDT": CurrencyTerms(earn_apr=D("0.05"))},
        trading={"USDT": D(100_000)})


@dataclass
class PaperBot:
    ex: SimExchange
    bot: Bot
    store: Store
    web: WebServer


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def paper(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[PaperBot]:
    ex = venue()
    store = await open_store(DatabaseConfig(path=tmp_path_factory.mktemp("bot") / "bot.db"),
                             None)
    settings = load_config(None, env={"LAICAI_MODE": "paper", "LAICAI_WEB_TOKEN": TOKEN})
    try:
        async with SimServer(ex, rate_limits=False) as srv, create_exchange(
                OkxConfig(rest_url=srv.rest_url, sandbox_mode=False, enable_rate_limit=False),
                OkxCredentials.plain(API_KEY, SECRET, PASSPHRASE)) as okx:
            bot = await build_bot(settings, venue=okx, store=store, clock=SimTimeClock(ex),
                                  ws_prices=False, engine_settings=EngineSettings(
                                      mode="paper", scan_interval_ms=HOUR // 4,
                                      risk_interval_ms=HOUR // 12, heartbeat_ms=HOUR))
            root = logging.getLogger()
            level = root.level
            root.setLevel(logging.INFO)  # as `laicai run` configures it
            capture = bot.capture_logs()
            capture.__enter__()
            await bot.engine.start()

            def advance_to(ts: int) -> None:
                assert isinstance(ex.clock, ManualClock)
                if ts > ex.clock.now_ms():
                    ex.clock.set(ts)
                ex.sync()

            await run_simulated(bot.engine, bot.engine.now_ms() + 14 * HOUR, advance_to)
            bot.runner.timers = False  # the clock stays put; only the page's commands run
            runner = asyncio.create_task(bot.runner.run())
            async with WebServer.from_settings(bot.operator, settings, port=0) as web:
                yield PaperBot(ex, bot, store, web)
            bot.runner.request_stop()
            await runner
            capture.__exit__(None, None, None)
            root.setLevel(level)
    finally:
        await store.close()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                            args=["--no-sandbox"])
        yield launched
        await launched.close()


@pytest_asyncio.fixture(loop_scope="module")
async def page(browser: Browser, paper: PaperBot) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1440, "height": 1100})
    tab = await context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    await tab.goto(paper.web.url + "/")
    try:
        yield tab
    finally:
        await context.close()
    assert errors == [], errors


async def test_page_shows_the_bots_carries_and_curve(page: Page, paper: PaperBot) -> None:
    positions = await paper.store.list_open_positions()
    assert {p.symbol for p in positions} == {"BTC", "DOGE"}
    rows = page.locator("#positions tbody tr")
    await expect(rows).to_have_count(len(positions))
    for pos in positions:
        row = page.locator(f"tr[data-position-id='{pos.id}']")
        text = await row.inner_text()
        assert pos.symbol in text and pos.direction.value in text
    await expect(page.locator("#state")).to_have_text("IDLE")
    snaps = await paper.store.list_equity_snapshots()
    equity = page.locator("#equity-chart path.series-equity")
    assert await equity.get_attribute("data-points") == str(len(snaps))
    assert len(snaps) >= 10
    await expect(page.locator("#log")).to_contain_text("bot state STARTING -> IDLE")
    income = page.locator("#income-chart path.series-income")
    assert await income.get_attribute("data-points") == str(len(snaps))
    last = snaps[-1].details or {}
    assert Decimal(str(last["income"])) > 0 and Decimal(str(last["costs"])) > 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "paper-bot.png"), full_page=True)
    if os.environ.get("LAICAI_DOCS_SCREENSHOT") == "1":
        await page.screenshot(path=str(DOCS_IMAGE), full_page=False)


async def test_pause_asks_for_the_token_and_pauses_the_engine(page: Page,
                                                             paper: PaperBot) -> None:
    engine = paper.bot.engine
    assert engine.state is BotState.IDLE
    await page.click("#btn-pause")
    await expect(page.locator("#token-dialog")).to_be_visible()
    await page.fill("#token-input", TOKEN)
    await page.click("#token-ok")
    await expect(page.locator("#command-result")).to_contain_text("paused")
    await expect(page.locator("#state")).to_have_text("PAUSED")
    assert engine.state is BotState.PAUSED
    assert engine.memory.operator_pause is not None
    # and resume (token kept in this tab)
    await page.click("#btn-resume")
    await expect(page.locator("#state")).to_have_text("IDLE")
    assert engine.state is BotState.IDLE


async def test_close_one_closes_the_carry_on_the_exchange(page: Page, paper: PaperBot) -> None:
    doge = next(p for p in await paper.store.list_open_positions() if p.symbol == "DOGE")
    await page.click(f"tr[data-position-id='{doge.id}'] button.close-position")
    await expect(page.locator("#confirm-dialog")).to_be_visible()
    await page.click("#confirm-ok")
    token = page.locator("#token-dialog")
    if await token.is_visible():
        await page.fill("#token-input", TOKEN)
        await page.click("#token-ok")
    await expect(page.locator("#positions tbody tr")).to_have_count(1, timeout=20_000)
    closed = await paper.store.get_position(doge.id)
    assert closed is not None and closed.status.value == "CLOSED"
    assert paper.ex.accounts["main"].positions.get("DOGE-USDT-SWAP") is None or \
        paper.ex.accounts["main"].positions["DOGE-USDT-SWAP"].pos == 0
