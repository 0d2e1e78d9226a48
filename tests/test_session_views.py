"""Every request a screen can send has its view, and a request no view answers fails loudly: before, the session
answered any request it did not know with the telegram view, so a new screen silently drew nothing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import get_args

import pytest

from meter_tui.p1 import parse_telegram
from meter_tui.services.session import VIEWS, Session, UnknownRequest
from meter_tui.services.views import (
    BillRequest,
    BillView,
    HistoryRequest,
    HistoryView,
    PeakRequest,
    PeakView,
    Request,
    TelegramRequest,
    TelegramView,
)
from tests.conftest import telegram_bytes

ANSWERS = {PeakRequest: PeakView, HistoryRequest: HistoryView, BillRequest: BillView, TelegramRequest: TelegramView}


@pytest.fixture
def session(tmp_path: Path) -> Session:
    meter = Session(tmp_path / "meter.sqlite", tmp_path / "rates.json")
    meter.become_owner()
    meter.add(parse_telegram(telegram_bytes("BE_domoticz__FLU5_253769484_A_50216__3ph_gas_water.txt")))
    return meter


def test_every_request_gets_its_own_view(session: Session):
    assert set(VIEWS) == set(get_args(Request)) == set(ANSWERS)
    for request, answer in ANSWERS.items():
        assert isinstance(session.view(request()), answer), request


def test_a_request_no_view_answers_fails_loudly(session: Session):
    @dataclass(frozen=True, slots=True)
    class WeatherRequest:
        """A new screen's request, not added to VIEWS."""

    with pytest.raises(UnknownRequest, match="no view answers a WeatherRequest: add it to VIEWS"):
        session.view(WeatherRequest())  # type: ignore[arg-type]
