"""Every command at 80 columns, as a newcomer meets them after `make demo`: real processes with COLUMNS=80, no line
over 80 columns and nothing cut, exit codes and messages that say what happened."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from meter_tui.config import history_path, load_config
from meter_tui.energy.rates import EXAMPLE_RATES
from meter_tui.services.demo import demo_meter
from meter_tui.sources.simulator import BRUSSELS
from tests.conftest import TELEGRAMS

NOW = datetime(2026, 3, 23, 19, 36, tzinfo=BRUSSELS)
BAD = TELEGRAMS / "BE_idx68294399590__FLU5_253769484_A__fabricated_INVALIDcrc.txt"
COMMANDS = ("parse", "record", "serve", "import", "report", "compare", "export", "backup", "restore", "check",
            "simulate")  # fmt: skip


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding only the demo meter's history, as `make demo` leaves it (since 1 February)."""
    folder = tmp_path_factory.mktemp("data")
    demo_meter(history_path(load_config({}), demo=True, env={"METER_TUI_DATA_DIR": str(folder)}), 1, now=NOW)
    return folder


def meter_tui(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "80", "METER_TUI_DATA_DIR": str(data)}
    return subprocess.run([sys.executable, "-m", "meter_tui", *args], capture_output=True, text=True, env=env,
                          check=False, timeout=120)  # fmt: skip


def fits(text: str) -> list[str]:
    """The lines of `text`, checked to fit 80 columns and to have nothing cut."""
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines), "\n".join(line for line in lines if len(line) > 80)
    assert "…" not in text, text
    return lines


def test_the_first_report_after_the_demo_shows_the_demo_and_says_so(data: Path, tmp_path: Path):
    shown = meter_tui(data, "report", "--rates", str(tmp_path / "rates.json"))
    assert shown.returncode == 0, shown.stderr
    assert shown.stderr.splitlines() == [
        "meter-tui: no history of a real meter yet: this is the demo meter's "
        f"({data / 'demo.sqlite'})"
    ]  # fmt: skip
    lines = fits(shown.stdout)
    months = json.loads(meter_tui(data, "report", "--demo", "--json", "--rates", str(tmp_path / "rates.json")).stdout)
    for month in months["months"]:  # each month's peak whole: its kW, its day and time
        row = next(line for line in lines if line.startswith(month["month"]))
        when = datetime.fromisoformat(month["peak_time"])
        assert row.endswith(f"{month['peak_kw']:.3f}  {when:%d %H:%M}"), row
    assert any(line.startswith("Mon 2026-03-23") and re.search(r"\d\d:\d\d$", line) for line in lines)


def test_with_demo_the_demo_s_history_is_read_without_a_word(data: Path, tmp_path: Path):
    for args in (["report", "--rates", str(tmp_path / "r.json")], ["check"], ["export"]):
        shown = meter_tui(data, *args, "--demo")
        assert shown.returncode == 0 and shown.stderr == "", (args, shown.stderr)
    fits(meter_tui(data, "check", "--demo").stdout)
    csv = meter_tui(data, "export", "--demo", "--from", "2026-03-23").stdout.splitlines()
    assert csv[0].startswith("start,") and csv[1].startswith("2026-03-23T00:00:00+01:00,")


def test_a_real_history_is_never_replaced_by_the_demo_s(data: Path, tmp_path: Path):
    real = tmp_path / "meter.sqlite"
    meter_tui(data, "import", str(TELEGRAMS / "streams" / "stream__BE_dsmrhub__example.dsmr_14_consecutive.txt"),
              "--db", str(real))  # fmt: skip
    shown = meter_tui(data, "report", "--db", str(real), "--rates", str(tmp_path / "r.json"))
    assert shown.returncode == 0 and "demo" not in shown.stderr
    assert "2026-03" not in shown.stdout


def test_compare_with_three_contracts_fits_and_names_them_whole(data: Path, tmp_path: Path):
    names = ["engie-easy-variable-2026-electricity.json", "luminus-comfy-flex-2026-electricity.json",
             "totalenergies-pixel-next-2026-electricity.json"]  # fmt: skip
    for index, name in enumerate(names):
        rates = json.loads(json.dumps(EXAMPLE_RATES))
        rates["Electricity"]["+"]["Day"] = 0.28 + 0.02 * index
        (tmp_path / name).write_text(json.dumps(rates))
    shown = meter_tui(data, "compare", *(str(tmp_path / name) for name in names))
    assert shown.returncode == 0, shown.stderr
    lines = fits(shown.stdout)
    assert lines[:3] == [f"A: {names[0]}", f"B: {names[1]}", f"C: {names[2]}"]
    for month in ("2026-02", "2026-03", "Total"):
        row = next(line for line in lines if line.split()[:1] == [month])
        assert len(re.findall(r"[+-]?\d+\.\d\d", row)) == 5, row  # A, B, C, B - A, C - A
    assert lines[-1] == f"Cheapest: A, {names[0]}"


def test_importing_a_file_of_only_rejected_telegrams_fails_and_says_so(data: Path, tmp_path: Path):
    for _ in range(2):  # and again: a failed import is not "already imported"
        said = meter_tui(data, "import", str(BAD), "--db", str(tmp_path / "m.sqlite"))
        assert said.returncode == 1
        assert said.stderr.splitlines()[-1] == f"{BAD.name}: nothing imported, its only telegram rejected (1 CRC)"


def test_restoring_a_missing_file_says_there_is_no_such_file(data: Path, tmp_path: Path):
    said = meter_tui(data, "restore", str(tmp_path / "nonexistent"), "--db", str(tmp_path / "m.sqlite"))
    assert said.returncode == 1
    assert said.stderr == f"meter-tui: {tmp_path / 'nonexistent'}: not restored: no such file\n"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--from", "2026-13-01"], "argument --from: not a day: '2026-13-01' (YYYY-MM-DD)"),
        (["--from", "2026-03-02", "--to", "2026-03-01"], "--from 2026-03-02 is after --to 2026-03-01"),
    ],
)
def test_an_error_in_export_s_days_shows_export_s_usage(data: Path, args: list[str], error: str):
    said = meter_tui(data, "export", *args)
    assert said.returncode == 2
    assert said.stderr.startswith("usage: meter-tui export "), said.stderr
    assert said.stderr.splitlines()[-1] == f"meter-tui export: error: {error}"
    fits(said.stderr)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_s_help_fits_80_columns(data: Path, command: str):
    said = meter_tui(data, command, "--help")
    assert said.returncode == 0
    fits(said.stdout)


def test_an_unknown_option_of_a_command_shows_that_command_s_usage(data: Path):
    said = meter_tui(data, "report", "--bogus")
    assert said.returncode == 2
    assert said.stderr.startswith("usage: meter-tui report ")
    assert said.stderr.splitlines()[-1] == "meter-tui report: error: unrecognized arguments: --bogus"


def test_the_month_as_the_invoice_splits_it_fits(data: Path, tmp_path: Path):
    shown = meter_tui(data, "report", "--demo", "--month", "2026-02", "--rates", str(tmp_path / "r.json"))
    lines = fits(shown.stdout)
    assert lines[0].strip() == "February 2026, as the invoice splits it"
    assert any(re.fullmatch(r" ?Total +\d+\.\d\d ?", line) for line in lines), lines
