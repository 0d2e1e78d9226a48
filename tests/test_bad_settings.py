"""Bad settings as users meet them, through the real command line: every broken config file, rates file, history
path or data folder gets one line naming the file, the key (or line) and what is wrong, a non-zero exit status,
and never a traceback."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from meter_tui.energy.rates import EXAMPLE_RATES, parse_rates
from meter_tui.services.prices import Prices
from tests.conftest import FLUVIUS

ELECTRICITY = FLUVIUS / "en_electricity_15min_2023-10-22_2025-04-26.csv"


def meter_tui(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "meter_tui", *args],
        capture_output=True, text=True, timeout=timeout, check=False, env={**os.environ, **(env or {})},
    )  # fmt: skip


def one_error(done: subprocess.CompletedProcess[str], *parts: str) -> str:
    """The one line the command said, which must hold every part; the command failed and printed no traceback."""
    assert done.returncode != 0, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    for part in parts:
        assert part in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A history of Fluvius quarters (autumn 2023), to price."""
    db = tmp_path_factory.mktemp("history") / "meter.sqlite"
    done = meter_tui("import", str(ELECTRICITY), "--db", str(db))
    assert done.returncode == 0, done.stderr
    return db


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ('[meter]\nparity = "X"\n', ('[meter] parity: one of N, E, O expected (got "X")',)),
        ("[meter]\nsilence_timeout = 0\n", ("[meter] silence_timeout:", "(got 0)")),
        ("[meter]\nsilence_timeout = -1\n", ("[meter] silence_timeout:", "(got -1)")),
        ("[meter]\nsilence_timeout = nan\n", ("[meter] silence_timeout: seconds between 0.1 and 3600", "(got nan)")),
        ("[meter]\nsilence_timeout = inf\n", ("[meter] silence_timeout:", "(got inf)")),
        ("[meter]\nsilence_timeout = 86400\n", ("[meter] silence_timeout:", "(got 86400)")),
        ("[store]\nraw_days = -1\n", ("[store] raw_days: days between 1 and 365 expected (got -1)",)),
        ("[store]\nraw_days = 0\n", ("[store] raw_days:", "(got 0)")),
        ('[store]\nraw_days = "7"\n', ('[store] raw_days: a whole number expected (got "7")',)),
        ("[meter]\nbaudrate = 1234\n", ("[meter] baudrate: one of 300,", "115200", "(got 1234)")),
        ("[meter]\nbytesize = 9\n", ("[meter] bytesize: one of 5, 6, 7, 8 expected (got 9)",)),
        ("[meter]\nstopbits = 3\n", ("[meter] stopbits: one of 1, 1.5, 2 expected (got 3)",)),
        ('[meter]\nmain_fuse = "3x0"\n', ("[meter] main_fuse: a household's main fuse of 6 to 250 amperes",)),
        ('[meter]\nmain_fuse = "40"\n', ('[meter] main_fuse: expected phases x amperes such as "3x40"', '(got "40")')),
        ('[meter]\nport = ""\n', ('[meter] port: must not be empty (got "")',)),
        ('[mqtt]\nurl = "http://broker"\n', ("[mqtt] url: expected mqtt://", '(got "http://broker")')),
        ('[mqtt]\ntopic = "home/#"\n', ("[mqtt] topic: a topic without #, +", '(got "home/#")')),
        ('[mqtt]\ndiscovery_prefix = ""\n', ("[mqtt] discovery_prefix:",)),
        ("[mqtt]\npassword = 1234\n", ("[mqtt] password: text in quotes expected (got int)",)),
        ("[meter]\nbaud = 9600\n", ("[meter] baud: unknown setting, known: port, baudrate",)),
        ("[meter]\nport = 1\n", ("[meter] port: text in quotes expected (got 1)",)),
        ("[meter]\nbaudrate = \n", ("not valid TOML", "line 2")),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_a_bad_config_setting_is_one_line_naming_file_section_and_key(tmp_path: Path, text: str, parts: tuple):
    config = tmp_path / "config.toml"
    config.write_text(text, encoding="utf-8")
    done = meter_tui("report", "--db", str(tmp_path / "none.sqlite"), env={"METER_TUI_CONFIG": str(config)})
    line = one_error(done, f"meter-tui: {config}: ", *parts)
    assert "1234" not in line or "password" not in text  # the password is never shown, even when wrong


def test_a_config_file_that_is_not_utf8_names_its_line(tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_bytes(b'[meter]\nport = "/dev/ttyUSB0"\n# caf\xe9\n')
    done = meter_tui("report", "--db", str(tmp_path / "none.sqlite"), env={"METER_TUI_CONFIG": str(config)})
    one_error(done, str(config), "line 3: not UTF-8 text (byte 0xe9 at column 6)")


def test_the_history_named_in_the_config_file_must_not_be_a_folder(tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\ndb = "{tmp_path}"\n', encoding="utf-8")
    done = meter_tui("report", env={"METER_TUI_CONFIG": str(config)})
    one_error(done, f"{config}: [store] db: is a directory")


def test_raw_days_refused_before_record_deletes_anything(tmp_path: Path):
    """A negative raw_days would delete every raw telegram: `record` refuses to start."""
    config = tmp_path / "config.toml"
    config.write_text("[store]\nraw_days = -7\n", encoding="utf-8")
    done = meter_tui("record", "--demo", "--db", str(tmp_path / "demo.sqlite"), env={"METER_TUI_CONFIG": str(config)})
    one_error(done, "[store] raw_days: days between 1 and 365 expected (got -7)")
    assert not (tmp_path / "demo.sqlite").exists()


def test_a_config_file_with_the_mqtt_password_readable_by_others_gets_a_warning(tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text('[mqtt]\nurl = "mqtt://ha@127.0.0.1"\npassword = "secret"\n', encoding="utf-8")
    config.chmod(0o644)
    db = tmp_path / "meter.sqlite"
    done = meter_tui("import", str(ELECTRICITY), "--db", str(db), env={"METER_TUI_CONFIG": str(config)})
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "warning" in line]
    assert warnings == [f"meter-tui: warning: {config} holds the MQTT password and is readable by others "
                        f"(mode 0644): chmod 600 {config}"]  # fmt: skip
    assert "secret" not in done.stderr
    config.chmod(0o600)
    again = meter_tui("import", str(ELECTRICITY), "--db", str(db), env={"METER_TUI_CONFIG": str(config)})
    assert again.returncode == 0 and "warning" not in again.stderr, again.stderr


def test_db_naming_a_folder_is_refused_and_the_folder_keeps_its_mode(tmp_path: Path):
    folder = tmp_path / "histories"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    for command in ("import", "report", "check", "record"):
        args = [command, "--db", str(folder)] + ([str(ELECTRICITY)] if command == "import" else [])
        args += ["--demo"] if command == "record" else []
        one_error(meter_tui(*args), f"--db {folder}: is a directory")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755


def test_a_data_folder_on_a_disk_that_is_not_mounted_stops_record_with_one_line(tmp_path: Path):
    """A USB disk not mounted yet at boot: the data folder is a link to nothing. `record` exits non-zero at once
    (cron or systemd can try again) instead of a traceback or a history on the SD card."""
    usb = tmp_path / "usb"
    usb.symlink_to(tmp_path / "media" / "disk")
    env = {"METER_TUI_DATA_DIR": str(usb / "meter-tui"), "METER_TUI_CONFIG": str(tmp_path / "none.toml")}
    done = meter_tui("record", "--demo", env=env, timeout=60)
    assert done.returncode == 2
    one_error(done, f"the data folder {usb / 'meter-tui'}: {usb} is a link to {tmp_path / 'media' / 'disk'}, which "
              "does not exist: is the disk mounted?")  # fmt: skip
    assert not (tmp_path / "media").exists()


@pytest.mark.parametrize(
    ("content", "parts"),
    [
        (
            b'{"Electricity": {"+": {"Day": NaN, "Night": 0.25}}}',
            ('Electricity."+".Day: not a finite number (got NaN)',),
        ),
        (
            b'{"Electricity": {"+": {"Day": 0.3, "Night": 0.2}}, "Gas": {"+": Infinity}}',
            ('Gas."+": not a finite number (got Infinity)',),
        ),
        (
            b'{"Electricity": {"+": {"Day": 0.3, "Night": 0.2}}, "Water": {"+": -Infinity}}',
            ('Water."+": not a finite',),
        ),
        (b'{"Electricity": {"+": {"Day": 0.3,\n "Night": "0,2\xe9"}}}', ("line 2: not UTF-8 text (byte 0xe9)",)),
        (b"[" * 100_000 + b"]" * 100_000, ("nested too deeply",)),
        (b'{"Electricity": {"+": {"Day": ' + b"[" * 500 + b"]" * 500 + b"}}}", ("nested too deeply",)),
        (b'{"Electricity": {"+": {"Day": "' + b"x" * 100_000 + b'"}}}', ('Electricity."+".Day: expected a number',)),
    ],
    ids=["nan", "infinity", "minus-infinity", "not-utf8", "nested-100000", "nested-500", "huge-value"],
)
def test_a_bad_rates_file_is_one_line_for_report_and_compare(history: Path, tmp_path: Path, content: bytes, parts):
    rates = tmp_path / "rates.json"
    rates.write_bytes(content)
    line = one_error(meter_tui("report", "--json", "--db", str(history), "--rates", str(rates)), str(rates), *parts)
    assert len(line) < 300
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"Electricity": {"+": {"Day": 0.3, "Night": 0.2}}}), encoding="utf-8")
    one_error(meter_tui("compare", str(good), str(rates), "--db", str(history)), str(rates), *parts)


def test_good_rates_still_price_the_history(history: Path, tmp_path: Path):
    rates = tmp_path / "rates.json"
    rates.write_text(json.dumps({"Electricity": {"+": {"Day": 0.3, "Night": 0.2}}}), encoding="utf-8")
    done = meter_tui("report", "--json", "--db", str(history), "--rates", str(rates), "--from", "2023-11-01",
                     "--to", "2023-11-30")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["months"][0]["cost_eur"] > 0


def test_a_history_on_a_disk_that_is_not_mounted_is_refused_by_every_command(tmp_path: Path):
    usb = tmp_path / "usb"
    usb.symlink_to(tmp_path / "media" / "disk")
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\ndb = "{usb}/meter.sqlite"\n', encoding="utf-8")
    for command in (["record", "--port", "/dev/null"], ["report"], ["import", str(ELECTRICITY)]):
        done = meter_tui(*command, env={"METER_TUI_CONFIG": str(config)}, timeout=60)
        one_error(done, f"the history's folder {usb} is a link to {tmp_path / 'media' / 'disk'}, which does not exist")
    assert not (tmp_path / "media").exists()


def test_serve_refuses_db_naming_a_folder_before_serving(tmp_path: Path):
    done = meter_tui("serve", "--demo", "--port", "0", "--db", str(tmp_path), timeout=60)
    one_error(done, f"--db {tmp_path}: is a directory")


@pytest.mark.parametrize("content", [b'{"Electricity": {"+": {"Day": NaN}}}', b"{\xff}", b"[" * 100_000])
def test_the_app_runs_on_the_example_prices_and_says_why_the_file_was_refused(tmp_path: Path, content: bytes):
    """The app's prices (services.prices): a broken rates.json is one line on the Settings screen, never a crash."""
    rates = tmp_path / "rates.json"
    rates.write_bytes(content)
    prices = Prices(rates)
    assert prices.view.error.startswith(f"{rates}: ") and "\n" not in prices.view.error
    assert prices.book.current == parse_rates(EXAMPLE_RATES).current


def test_a_password_in_the_config_files_mqtt_url_gets_the_warning_too(tmp_path: Path, history: Path):
    config = tmp_path / "config.toml"
    config.write_text('[mqtt]\nurl = "mqtt://ha:secret@127.0.0.1:1883"\n', encoding="utf-8")
    config.chmod(0o640)
    done = meter_tui("check", "--db", str(history), env={"METER_TUI_CONFIG": str(config)})
    assert f"meter-tui: warning: {config} holds the MQTT password and is readable by others (mode 0640)" in done.stderr
    assert "secret" not in done.stderr and "Traceback" not in done.stderr
