"""Every telegram in tests/data/telegrams: parsed, or rejected exactly where INDEX.md says its CRC is bad."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from meter_tui.p1 import CrcError, FramingError, TelegramError, describe, parse_telegram
from meter_tui.p1.reader import TelegramReader
from tests.conftest import TELEGRAMS


def _index() -> dict[str, str]:
    """file name -> its 'CRC:' line in INDEX.md."""
    text = (TELEGRAMS / "INDEX.md").read_text(encoding="utf-8")
    entries = {}
    for section in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        name = section.splitlines()[0].strip()
        crc = re.search(r"^- CRC: (.*)$", section, flags=re.MULTILINE)
        assert crc is not None, f"INDEX.md entry {name} has no CRC line"
        entries[name] = crc.group(1)
    return entries


INDEX = _index()
SINGLE_FILES = sorted(p.name for p in TELEGRAMS.glob("*.txt"))


def test_index_lists_every_file():
    assert set(SINGLE_FILES) <= set(INDEX)
    assert len(SINGLE_FILES) >= 40


@pytest.mark.parametrize("name", SINGLE_FILES)
def test_each_telegram_is_parsed_or_rejected_as_indexed(name: str):
    data = (TELEGRAMS / name).read_bytes()
    crc_line = INDEX[name]
    if "INVALID" in crc_line:
        with pytest.raises(CrcError):
            parse_telegram(data)
        # The content is still readable for the inspector, with the CRC check off.
        assert parse_telegram(data, verify_crc=False).objects
    elif "frame" in crc_line:
        with pytest.raises(FramingError, match="no end line"):
            parse_telegram(data)
    else:
        telegram = parse_telegram(data)
        assert telegram.objects
        assert telegram.crc_status == ("none" if crc_line.startswith("none") else "ok")
        # Every object is kept, known to the registry or not.
        codes = re.findall(rb"^(\d+-\d+:\d+\.\d+\.\d+)", data, flags=re.MULTILINE)
        assert [code for code, _ in telegram.objects] == [c.decode() for c in codes]


@pytest.mark.parametrize("path", sorted((TELEGRAMS / "variants").glob("*.txt")), ids=lambda p: p.name[:40])
def test_python_evaluated_variants_have_valid_crcs(path: Path):
    assert parse_telegram(path.read_bytes()).crc_status == "ok"


def test_foreign_meters_parse_without_belgian_fields():
    dutch = parse_telegram((TELEGRAMS / "NL_dsmr_parser__V5__ISk5_MT382-1000.txt").read_bytes())
    assert dutch.version == "50"
    assert dutch.quarter_average_kw is None
    assert dutch.peak_history is None
    assert dutch.power_failures == 13
    german = parse_telegram((TELEGRAMS / "DE_dsmr_parser__ESY5Q3DB1024_V304__EasyMeter_Q3D.txt").read_bytes())
    assert german.crc is None
    assert german.import_total_kwh == pytest.approx(52185.7825309)
    assert german.power_import_kw == pytest.approx(2.12486)  # sent as 002124.86*W
    assert german.objects[0][0] == "1-0:0.0.0"  # the *255 suffix is not part of the code
    hungarian = parse_telegram((TELEGRAMS / "HU_dsmr_parser__V5_EON_HU__SAG5.txt").read_bytes())
    assert hungarian.peak_history is None  # its 98.1.0 is billing data, kept only as a generic object
    assert any(code == "0-0:98.1.0" for code, _ in hungarian.objects)
    old_dutch = parse_telegram((TELEGRAMS / "NL_dsmr_parser__V2_2__ISk5_MT382-1004.txt").read_bytes())
    assert old_dutch.crc is None
    gas = old_dutch.mbus[0].reading
    assert gas is not None
    assert (gas.value, gas.unit) == (1.001, "m3")
    heat = parse_telegram((TELEGRAMS / "NL_dsmr_parser__UNPADDED_CRC__NWA-WARMTELINK_heat.txt").read_bytes())
    assert heat.crc == 0x0B9F
    assert heat.mbus[0].kind.value == "heat"
    assert heat.mbus[0].reading is not None
    assert heat.mbus[0].reading.unit == "GJ"


def test_stream_of_fourteen_in_random_chunks():
    data = (TELEGRAMS / "streams" / "stream__BE_dsmrhub__example.dsmr_14_consecutive.txt").read_bytes()
    rng = random.Random(1234)
    for _ in range(20):
        reader = TelegramReader()
        results = []
        position = 0
        while position < len(data):
            size = rng.choice((1, 2, 3, 17, 64, 500, 4096))
            results += reader.feed(data[position : position + size])
            position += size
        results += reader.flush()
        telegrams = [r.telegram for r in results if r.telegram is not None]
        assert len(telegrams) == 14
        seconds = [t.timestamp.second for t in telegrams if t.timestamp is not None]
        assert seconds == [(56 + i) % 60 for i in range(14)]
        assert telegrams[0].import_day_kwh == 3457.591
        rejected = [r for r in results if r.error is not None]
        assert len(rejected) == 1  # the trailing half telegram: a lone '/'
        assert rejected[0].offset == len(data) - 1
        assert (reader.good, reader.rejected, reader.garbage_bytes) == (14, 1, 0)


def test_registry_describes_known_channel_and_unknown_codes():
    assert describe("1-0:1.8.1").unit == "kWh"
    assert describe("1-0:1.8.1").key == "import_day_kwh"
    gas = describe("0-2:24.2.3")
    assert gas.code == "0-2:24.2.3"
    assert "channel 2" in gas.description
    assert describe("9-9:9.9.9").key == "unknown"


def test_errors_say_what_and_where():
    good = (TELEGRAMS / "BE_dsmrhub__FLU5_253770234_A_50217__1ph_gas_98empty.txt").read_bytes()
    broken = good.replace(b"1-0:1.8.2(004282.456*kWh)", b"1-0:1.8.2(0042x2.456*kWh)")
    with pytest.raises(TelegramError) as caught:
        parse_telegram(broken, verify_crc=False)
    error = caught.value
    assert error.line == 7  # type: ignore[attr-defined]
    assert error.code == "1-0:1.8.2"  # type: ignore[attr-defined]
    assert broken[error.offset : error.offset + 9] == b"1-0:1.8.2"
    assert "line 7 (1-0:1.8.2)" in str(error)
    junk = good.replace(b"0-0:96.13.0()", b"this is no object")
    with pytest.raises(TelegramError, match="not an OBIS object: 'this is no object'"):
        parse_telegram(junk, verify_crc=False)
