"""What the connection carries caps the headroom, and what a peak costs over the next 12 months."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from meter_tui.config import ConfigError, load_config
from meter_tui.energy.capacity import connection_kw, extra_peak_cost_eur, forecast, peak_cost_eur
from meter_tui.sources.simulator import BRUSSELS


def test_the_meter_s_limiter_wins_over_the_main_fuse_and_99_999_means_none():
    assert connection_kw(6.0, "3x40") == 6.0
    assert connection_kw(99.999, "3x40") == pytest.approx(3 * 40 * 230 / 1000)  # 27.6 kW
    assert connection_kw(None, "1x40") == pytest.approx(9.2)
    assert connection_kw(999.9, None) is None


def test_the_headroom_is_capped_by_the_connection():
    moment = datetime(2026, 3, 23, 19, 44, 0, tzinfo=BRUSSELS)  # 60 s left in the quarter
    free = forecast(moment, 1.0, 0.5, 9.0)
    assert free.allowed_kw == pytest.approx((9.0 - 1.0) * 900 / 60)  # 120 kW on paper
    assert not free.limited
    capped = forecast(moment, 1.0, 0.5, 9.0, connection_kw(None, "3x40"))
    assert capped.allowed_kw == pytest.approx(27.6) and capped.limited


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
