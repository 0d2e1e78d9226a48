"""Today's cost on a dynamic contract includes what the owner has gathered but not committed yet (the history is
written every 5 minutes of meter time): that energy is priced at its quarters' day-ahead prices, and a pending
quarter without a price is counted as unpriced, exactly as it will be once committed. Before the fix the pending
energy cost 0.00 EUR and was not flagged."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from meter_tui.p1 import parse_telegram
from meter_tui.p1.telegram import Telegram
from meter_tui.services.session import Session
from meter_tui.sources.simulator import BRUSSELS
from meter_tui.store.database import open_database
from meter_tui.store.prices import store_prices
from tests.conftest import with_crc
from tests.test_invoice import DYNAMIC

PRICE = 100.0  # EUR/MWh of the quarter 12:00-12:15; the quarter 12:15-12:30 has no price
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=BRUSSELS)


def telegram(moment: datetime, import_kwh: float) -> Telegram:
    lines = [
        "/FLU5\\253769484_A", "", "0-0:96.1.4(50217)", "0-0:96.1.1(1SAG0001)", f"0-0:1.0.0({moment:%y%m%d%H%M%S}W)",
        f"1-0:1.8.1({import_kwh:010.3f}*kWh)", "1-0:1.8.2(000000.000*kWh)", "1-0:2.8.1(000000.000*kWh)",
        "1-0:2.8.2(000000.000*kWh)", "0-0:96.14.0(0001)", "1-0:1.7.0(01.200*kW)",
    ]  # fmt: skip
    return parse_telegram(with_crc("\r\n".join([*lines, "!"])))


def feed(meter: Session, first: datetime, count: int, kwh: float) -> float:
    """`count` telegrams 10 s apart from `first`, the import register 10 Wh up each time; returns the register."""
    for n in range(count):
        meter.add(telegram(first + timedelta(seconds=10 * n), kwh))
        kwh = round(kwh + 0.010, 3)
    return kwh


@pytest.fixture
def meter(tmp_path: Path) -> Session:
    db = tmp_path / "meter.sqlite"
    connection = open_database(db)
    store_prices(connection, {int(NOON.timestamp()): PRICE})
    connection.close()
    (tmp_path / "rates.json").write_text(json.dumps(DYNAMIC))
    session = Session(db, tmp_path / "rates.json")
    assert session.become_owner() == ""
    return session


def test_pending_energy_is_priced_at_its_quarter_s_day_ahead_price(meter: Session):
    # The first telegram of a new history is committed at once (the baseline); the next 29 stay pending.
    feed(meter, NOON + timedelta(minutes=10), 30, 100.0)
    assert meter.history.ingestor is not None and meter.history.ingestor.pending()
    pending = meter.today_column(NOON.date())
    assert pending.usage.import_kwh == pytest.approx(0.29)
    assert pending.usage.import_priced_kwh == pytest.approx(0.29)
    assert pending.usage.import_spot_eur == pytest.approx(0.29 * PRICE / 1000)  # 290 Wh at 100 EUR/MWh
    assert pending.cost.unpriced_quarters == 0
    assert pending.cost.import_spot > 0.03
    assert meter.history.ingestor.flush()
    committed = meter.today_column(NOON.date())
    assert committed.usage == pending.usage
    assert committed.cost == pending.cost


def test_a_pending_quarter_without_a_price_is_counted_as_unpriced(meter: Session):
    register = feed(meter, NOON + timedelta(minutes=10), 30, 100.0)
    # 12:15:00 commits the batch of 12:10; what follows, in the quarter without a price, is pending.
    feed(meter, NOON + timedelta(minutes=15), 30, register)
    assert meter.history.ingestor is not None and meter.history.ingestor.pending()
    pending = meter.today_column(NOON.date())
    assert pending.usage.import_kwh == pytest.approx(0.59)
    assert pending.usage.import_priced_kwh == pytest.approx(0.29)  # 12:15:00's 10 Wh are the next quarter's
    assert pending.cost.unpriced_quarters == 1
    assert meter.history.ingestor.flush()
    committed = meter.today_column(NOON.date())
    assert (committed.usage, committed.cost) == (pending.usage, pending.cost)
