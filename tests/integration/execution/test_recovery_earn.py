"""Crash recovery of a SHORT carry's Simple Earn subscription, the last step of an open (and of
a reset's reopen): the position is already OPEN when its coin moves trading -> funding ->
Earn and the record says SUBSCRIBED, so a crash in between leaves the coin where the record
does not look. Recovery asks the venue where the coin is and finishes the subscription.

(Found by ``tests/integration/engine/test_bot_sigkill.py``: left alone, the engine's hedge
guard, which reads Earn only for subscribed carries, saw the spot leg missing and shrank the
perp to nothing, and a close sold nothing and left the coin in the funding account.)"""

from __future__ import annotations

from decimal import Decimal

from execution_rig import Rig

from laicai.domain.enums import Direction
from laicai.execution.recovery import recover
from laicai.store.records import PositionChanges, PositionRecord
from laicai.store.states import PositionStatus, SpotEarningStatus

D = Decimal


async def _open_short(rig: Rig) -> tuple[PositionRecord, Decimal]:
    opp = await rig.opportunity("BTC")
    assert opp.direction is Direction.SHORT
    pos = await rig.executor.open(opp)
    assert pos.status is PositionStatus.OPEN
    assert pos.spot_earning_status is SpotEarningStatus.SUBSCRIBED
    return pos, rig.ex.accounts["main"].savings["BTC"]


async def _record(rig: Rig, pos: PositionRecord, status: SpotEarningStatus) -> None:
    """What the record says when the crash came before the subscription was written."""
    await rig.store.update_position(pos.id, PositionChanges(
        spot_earning_status=status, earn_amount=D(0)), ts=rig.executor.clock.now())


async def _redeem_to_funding(rig: Rig, amount: Decimal) -> None:
    await rig.okx.earn_redeem("BTC", amount)
    rig.ex.sync()
    acct = rig.ex.accounts["main"]
    assert acct.savings.get("BTC", D(0)) == 0 and acct.funding["BTC"] == amount


async def test_coin_moved_to_funding_but_not_subscribed_is_subscribed(rig: Rig) -> None:
    pos, amount = await _open_short(rig)
    await _redeem_to_funding(rig, amount)  # = transferred, then killed before the purchase
    await _record(rig, pos, SpotEarningStatus.NONE)
    report = await recover(rig.executor)
    acct = rig.ex.accounts["main"]
    assert acct.savings["BTC"] == amount and acct.funding.get("BTC", D(0)) == 0
    done = await rig.store.get_position(pos.id)
    assert done is not None and done.status is PositionStatus.OPEN
    assert done.spot_earning_status is SpotEarningStatus.SUBSCRIBED
    assert done.earn_amount == amount
    assert report.positions == {}  # the carry itself was at rest: nothing was traded
    assert rig.contracts("BTC-USDT-SWAP") * D("0.01") == -pos.position_amount


async def test_subscription_the_record_missed_is_recorded(rig: Rig) -> None:
    pos, amount = await _open_short(rig)
    await _record(rig, pos, SpotEarningStatus.NONE)  # killed after the purchase
    purchases = len(rig.ex.accounts["main"].bills)
    await recover(rig.executor)
    done = await rig.store.get_position(pos.id)
    assert done is not None and done.spot_earning_status is SpotEarningStatus.SUBSCRIBED
    assert done.earn_amount == amount == rig.ex.accounts["main"].savings["BTC"]
    assert len(rig.ex.accounts["main"].bills) == purchases  # nothing was moved


async def test_reopened_coin_still_in_trading_is_subscribed_again(rig: Rig) -> None:
    pos, amount = await _open_short(rig)
    await _redeem_to_funding(rig, amount)
    await rig.okx.transfer("BTC", amount, "funding", "trading")
    await _record(rig, pos, SpotEarningStatus.REDEEMED)  # a reset's reopen, killed before Earn
    await recover(rig.executor)
    done = await rig.store.get_position(pos.id)
    assert done is not None and done.spot_earning_status is SpotEarningStatus.SUBSCRIBED
    assert rig.ex.accounts["main"].savings["BTC"] == amount and rig.coin("BTC") == 0


async def test_a_subscribed_carry_is_left_alone(rig: Rig) -> None:
    pos, amount = await _open_short(rig)
    bills = len(rig.ex.accounts["main"].bills)
    await recover(rig.executor)
    done = await rig.store.get_position(pos.id)
    assert done == pos
    assert len(rig.ex.accounts["main"].bills) == bills
    assert rig.ex.accounts["main"].savings["BTC"] == amount
