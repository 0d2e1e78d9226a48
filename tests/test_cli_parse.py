"""`meter-tui parse`, run as users run it: a separate process writing JSON Lines."""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from meter_tui.cli import build_parser
from tests.conftest import TELEGRAMS

KEYS = {
    "timestamp", "crc", "header", "version", "tariff", "import_day_kwh", "import_night_kwh", "export_day_kwh",
    "export_night_kwh", "power_import_kw", "power_export_kw", "quarter_average_kw", "month_peak_kw",
    "month_peak_time", "peak_history", "gas_m3", "gas_time", "water_m3", "water_time", "phases",
}  # fmt: skip


def run_parse(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "meter_tui", "parse", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_parse_prints_one_json_object_per_telegram():
    files = [
        TELEGRAMS / "BE_dsmr_parser__FLUVIUS_V171_ALT__FLU5_253769484_A__gas_water_98x4_invalidts.txt",
        TELEGRAMS / "BE_p1dongel__FLU5_253769484_A_50217__3ph_water_ch1_gas_ch2_98empty_lowercaseCRC.txt",
        TELEGRAMS / "BE_idx53075094509__FLU5_253770234_A__trimmed_INVALIDcrc.txt",
        TELEGRAMS / "NL_dsmr_parser__V2_2__ISk5_MT382-1004.txt",
    ]
    done = run_parse(*files)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(records) == 4
    first, dongel, rejected, dutch = records
    assert set(first) >= KEYS
    assert first["timestamp"] == "2023-11-02T12:15:48+01:00"
    assert first["crc"] == "ok"
    assert first["header"] == "FLU5\\253769484_A"
    assert first["version"] == "50217"
    assert first["tariff"] == "day"
    assert first["import_day_kwh"] == 301.548
    assert first["month_peak_kw"] == 3.064
    assert first["month_peak_time"] == "2023-11-02T11:45:00+01:00"
    assert first["peak_history"][0] == {"month": "2023-07", "time": None, "kw": None}
    assert first["peak_history"][3] == {"month": "2023-10", "time": "2023-10-16T13:00:00+02:00", "kw": 4.927}
    assert (first["gas_m3"], first["water_m3"]) == (92.287, 8.579)
    assert first["gas_time"] == "2023-11-02T12:10:02+01:00"
    assert first["phases"][1] == {
        "phase": 2,
        "import_kw": 0.179,
        "export_kw": 0.0,
        "voltage_v": 228.1,
        "current_a": 0.88,
    }
    assert dongel["water_m3"] == 3.83
    assert dongel["gas_m3"] == 107.812
    assert rejected == {"error": "CRC mismatch: telegram says E4C7, bytes give 7953", "offset": 0}
    assert dutch["crc"] == "none"
    assert dutch["timestamp"] is None
    assert dutch["quarter_average_kw"] is None


def test_parse_reads_a_stream_and_reports_the_offset_of_a_half_telegram():
    stream = TELEGRAMS / "streams" / "stream__BE_dsmrhub__example.dsmr_14_consecutive.txt"
    done = run_parse(stream)
    assert done.returncode == 0
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(records) == 15
    assert [r["timestamp"][-8:-6] for r in records[:14]] == ["56", "57", "58", "59"] + [f"{s:02d}" for s in range(10)]
    assert records[14]["offset"] == stream.stat().st_size - 1
    assert "incomplete" in records[14]["error"]


def test_parse_exit_status_is_1_only_when_a_file_cannot_be_read(tmp_path: Path):
    missing = tmp_path / "missing.cap"
    good = TELEGRAMS / "BE_dsmrhub__FLU5_253770234_A_50217__1ph_gas_98empty.txt"
    done = run_parse(missing, good)
    assert done.returncode == 1
    assert f"cannot read {missing}" in done.stderr
    assert len(done.stdout.splitlines()) == 1  # the readable file is still parsed
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(bytes(range(256)) * 10)
    done = run_parse(garbage)
    assert done.returncode == 0


def _every_parser(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    found = [(parser.prog, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += _every_parser(sub)
    return found


def test_every_option_of_every_command_says_what_it_is_for():
    missing = [
        f"{prog} {action.option_strings or action.dest}"
        for prog, parser in _every_parser(build_parser())
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction) and not action.help
    ]
    assert missing == []


@pytest.mark.parametrize("command", ["report", "export"])
def test_from_after_to_is_an_error(command: str, tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "meter_tui", command, "--from", "2026-03-02", "--to", "2026-03-01",
         "--db", str(tmp_path / "m.sqlite")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--from 2026-03-02 is after --to 2026-03-01" in result.stderr


def test_export_writes_csv_without_being_asked_for_csv(tmp_path: Path):
    capture = TELEGRAMS / "streams" / "stream__BE_dsmrhub__example.dsmr_14_consecutive.txt"
    db = str(tmp_path / "m.sqlite")
    subprocess.run([sys.executable, "-m", "meter_tui", "import", str(capture), "--db", db], check=True)
    result = subprocess.run(
        [sys.executable, "-m", "meter_tui", "export", "--db", db], capture_output=True, text=True, check=True
    )
    header = result.stdout.splitlines()[0]
    assert header.count(",") >= 5 and "import" in header


def test_report_fits_80_columns_and_shows_the_peaks(tmp_path: Path):
    capture, db = tmp_path / "day.p1", str(tmp_path / "m.sqlite")
    run = [sys.executable, "-m", "meter_tui"]
    subprocess.run([*run, "simulate", "--days", "1.01", "--start", "2026-03-02", "--out", str(capture)], check=True)
    subprocess.run([*run, "import", str(capture), "--db", db], check=True, capture_output=True)
    shown = subprocess.run(
        [*run, "report", "--db", db, "--rates", str(tmp_path / "r.json")],
        capture_output=True, text=True, check=True, env={**os.environ, "COLUMNS": "80"},
    ).stdout  # fmt: skip
    assert "…" not in shown and max(map(len, shown.splitlines())) <= 80, shown
    day = next(line for line in shown.splitlines() if "Mon 2026-03-02" in line)
    peak = json.loads(subprocess.run([*run, "report", "--json", "--db", db, "--rates", str(tmp_path / "r.json")],
                                     capture_output=True, text=True, check=True).stdout)["days"][0]  # fmt: skip
    assert f"{peak['peak_kw']:.3f}" in day and peak["peak_time"][11:16] in day


def test_importing_random_bytes_says_what_it_rejected_one_line_each(tmp_path: Path):
    garbage = tmp_path / "capture-of-the-p1-dongle-in-the-garage-2026-11-28.bin"  # long enough to wrap
    garbage.write_bytes(random.Random(3).randbytes(20_000).replace(b"!", b"?") + b"/X\r\n" + b"y" * 9000)
    result = subprocess.run(
        [sys.executable, "-m", "meter_tui", "import", str(garbage), "--db", str(tmp_path / "m.sqlite")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith(f"{garbage.name}: ") for line in lines), lines
    assert lines[-1].startswith(f"{garbage.name}: nothing imported, its only telegram rejected")
    assert result.returncode == 1


def test_import_says_how_many_quarters_are_new_and_how_many_were_known(tmp_path: Path):
    run, db = [sys.executable, "-m", "meter_tui"], str(tmp_path / "m.sqlite")
    first, again = tmp_path / "hour.p1", tmp_path / "same-hour.p1"
    subprocess.run([*run, "simulate", "--days", "0.05", "--start", "2026-03-02", "--out", str(first)], check=True)
    again.write_bytes(first.read_bytes() + b"\r\n")  # other bytes, the same telegrams
    imported = [*run, "import", str(first), str(again), "--db", db]
    said = subprocess.run(imported, capture_output=True, text=True, check=True).stderr
    lines = said.splitlines()
    assert ": 5 new quarters, 0 already known" in lines[0], said  # 72 minutes: 4 whole quarters and a started one
    assert ": 0 new quarters, 5 already known" in lines[1], said
