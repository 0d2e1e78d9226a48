"""The parser remembers the lines it read: a telegram read with that memory is the telegram read without it, a bad
line is refused however often its good neighbours were seen, and the memory stays bounded."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from meter_tui.p1 import TelegramValueError, parse_telegram
from meter_tui.p1 import parser as parser_module
from meter_tui.p1.crc import crc16_arc
from meter_tui.sources.simulator import BRUSSELS, SimulatedMeter

TELEGRAMS = Path(__file__).parent / "data" / "telegrams"


def forget() -> None:
    parser_module._lines.clear()


def test_a_stream_read_with_the_memory_equals_each_telegram_read_cold():
    meter = SimulatedMeter(3, datetime(2026, 6, 10, 11, 58, tzinfo=BRUSSELS))
    stream = [meter.step() for _ in range(400)]  # across a quarter's end: the month peak and registers move
    warm = [parse_telegram(data) for data in stream]
    cold = []
    for data in stream:
        forget()
        cold.append(parse_telegram(data))
    assert warm == cold
    assert len({t.phases for t in warm}) > 100  # the values did change from telegram to telegram
    assert len({t.export_day_kwh for t in warm}) > 10 and len({t.timestamp for t in warm}) == len(warm)


def test_a_bad_value_is_refused_after_the_same_line_was_read_good():
    data = (TELEGRAMS / "BE_domoticz__FLU5_253769484_A_50216__3ph_gas_water.txt").read_bytes()
    good = parse_telegram(data)
    line = next(sent for code, sent in good.objects if code == "1-0:1.8.1")
    body = data[: data.index(b"\n!") + 1].replace(f"1-0:1.8.1{line}".encode(), b"1-0:1.8.1(0x0301.548*kWh)") + b"!"
    with pytest.raises(TelegramValueError, match=r"1-0:1\.8\.1"):
        parse_telegram(body + b"%04X\r\n" % crc16_arc(body))
    assert parse_telegram(data) == good


def test_the_memory_is_bounded_by_a_stream_of_ever_new_lines():
    meter = SimulatedMeter(4, datetime(2026, 1, 10, 18, 0, tzinfo=BRUSSELS))
    for _ in range(1500):  # about 15 new lines a telegram: 20,000 lines seen
        parse_telegram(meter.step())
        assert len(parser_module._lines) <= parser_module._LINES_KEPT
