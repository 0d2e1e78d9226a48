"""What the connection carries caps the headroom, and what a peak costs over the next 12 months."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from meter_tui.config import ConfigError, load_config
from meter_tui.energy.capacity import Connection, connection, extra_peak_cost_eur, forecast, peak_cost_eur
from meter_tui.energy.costs import money
from meter_tui.p1 import parse_telegram
from meter_tui.services.session import Session
from meter_tui.sources.simulator import BRUSSELS, SimulatedMeter
from meter_tui.ui.widgets.quarter import quarter_lines


def test_the_meter_s_limiter_wins_over_the_main_fuse_and_99_999_means_none():
    assert connection(6.0, "3x40") == Connection(6.0, "the meter's power limiter")
    assert connection(99.999, "3x40").kw == pytest.approx(3 * 40 * 230 / 1000)  # 27.6 kW
    assert connection(None, "1x40") == Connection(pytest.approx(9.2), "main_fuse 1x40")


def test_without_a_limiter_or_main_fuse_the_meter_s_fuse_else_a_usual_connection_is_assumed_and_said():
    assert connection(None, None, meter_fuse_a=32.0, phases=3) == Connection(
        pytest.approx(22.08), "the meter's fuse, 3x32 A"
    )
    assert connection(999.9, None, meter_fuse_a=999.99, phases=3) == Connection(
        pytest.approx(17.25), "assumed 3x25 A", assumed=True
    )  # 3N400 V: 3 x 230 V x 25 A
    assert connection(None, None, phases=1) == Connection(pytest.approx(9.2), "assumed 1x40 A", assumed=True)
    delta = connection(None, None, phases=2, grid_v=230)  # 3x230 V: L2 measures no voltage of its own
    assert delta == Connection(pytest.approx(15.93, abs=0.01), "assumed 3x40 A", assumed=True)
    assert connection(None, "3x40", grid_v=230).kw == pytest.approx(3**0.5 * 230 * 40 / 1000)


def test_the_headroom_is_capped_by_the_connection():
    moment = datetime(2026, 3, 23, 19, 44, 0, tzinfo=BRUSSELS)  # 60 s left in the quarter
    free = forecast(moment, 1.0, 0.5, 9.0)
    assert free.allowed_kw == pytest.approx((9.0 - 1.0) * 900 / 60)  # 120 kW on paper
    assert not free.limited
    capped = forecast(moment, 1.0, 0.5, 9.0, connection(None, "3x40"))
    assert capped.allowed_kw == pytest.approx(27.6) and capped.limited
    assumed = forecast(moment, 1.0, 0.5, 9.0, connection(None, None, phases=3))
    assert assumed.allowed_kw == pytest.approx(17.25) and assumed.connection.assumed


def test_a_peak_costs_a_twelfth_of_its_yearly_price_in_the_next_12_months_and_at_least_2_5_kw():
    assert peak_cost_eur(6.0, 60.0) == pytest.approx(30.0)
    assert peak_cost_eur(1.0, 60.0) == pytest.approx(12.5)  # billed as 2.5 kW
    assert extra_peak_cost_eur(7.2, 6.0, 60.0) == pytest.approx(6.0)
    assert extra_peak_cost_eur(5.0, 6.0, 60.0) == 0.0
    assert extra_peak_cost_eur(2.0, None, 60.0) == 0.0  # under the 2.5 kW floor a peak costs nothing more


def test_a_main_fuse_in_the_config_file_is_checked(tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text('[meter]\nmain_fuse = "3x40"\n')
    assert load_config({"METER_TUI_CONFIG": str(config)}).meter.main_fuse == "3x40"
    config.write_text('[meter]\nmain_fuse = "40 A"\n')
    with pytest.raises(ConfigError, match=r"main_fuse: expected phases x amperes"):
        load_config({"METER_TUI_CONFIG": str(config)})


def test_the_demo_meter_s_headroom_never_exceeds_its_assumed_connection(tmp_path: Path):
    """The demo meter sets no power limit and no fuse, and main_fuse is unset: near a quarter's end the headroom
    is what a usual 3x25 A connection carries, not hundreds of kW, and MQTT publishes the same figure."""
    session = Session(None, tmp_path / "rates.json")
    meter = SimulatedMeter(1, datetime(2026, 3, 23, 19, 30, tzinfo=BRUSSELS))
    published = []
    for raw in meter.run(899):
        session.add(parse_telegram(raw))
        values = session.live_values()
        assert values is not None and values.headroom_kw is not None
        published.append(values.headroom_kw)
    assert max(published) == pytest.approx(17.25)  # 3 x 230 V x 25 A, reached as the quarter ends
    assert all(kw <= 17.25 + 1e-9 for kw in published)
    view = session.peak_view()
    assert view is not None and view.forecast is not None
    assert view.forecast.connection == Connection(pytest.approx(17.25), "assumed 3x25 A", assumed=True)
    said = quarter_lines(view, dark=True).plain
    assert "You may draw up to 17.25 kW for the remaining 2 s (all the connection carries: assumed 3x25 A)" in said


def test_money_never_says_minus_zero():
    """An injection price times nothing, or a cost per hour while nothing flows: zero, not a credit."""
    assert [money(x) for x in (-0.004, 0.0, -0.005001, 12.345)] == ["0.00", "0.00", "-0.01", "12.35"]
    assert [money(x, sign=True) for x in (-0.004, 0.004, 0.0, 0.08, -1.5)] == ["0.00", "0.00", "0.00", "+0.08", "-1.50"]
