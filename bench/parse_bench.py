"""Parse speed: meter-tui's P1 parser against dsmr_parser, on the real Belgian telegrams of tests/data/telegrams.

Run: `make bench-parse` (or `.venv/bin/python bench/parse_bench.py`). Prints telegrams per second for each parser
and the ratio. Only telegrams whose CRC is valid are used, since dsmr_parser with CRC checking on rejects the rest;
both parsers check the CRC. Each figure is the best of several rounds, to keep other load on the machine out of it.
"""

from __future__ import annotations

import argparse
import sys
import timeit
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from meter_tui.p1 import TelegramError, parse_telegram
from meter_tui.p1 import parser as parser_module
from meter_tui.p1.crc import BACKEND, crc16_arc_pure
from meter_tui.sources.simulator import BRUSSELS, SimulatedMeter

TELEGRAMS = Path(__file__).resolve().parents[1] / "tests" / "data" / "telegrams"
REFERENCE = "BE_dsmr_parser__FLUVIUS_V171_ALT__FLU5_253769484_A__gas_water_98x4_invalidts.txt"


def belgian_telegrams(folder: Path) -> list[bytes]:
    telegrams = []
    for path in sorted(folder.glob("BE_*.txt")) + sorted((folder / "variants").glob("BE_*.txt")):
        data = path.read_bytes()
        try:
            parse_telegram(data)
        except TelegramError:
            continue
        telegrams.append(data)
    return telegrams


def seconds_per_call(parse: object, inputs: list[bytes] | list[str], number: int) -> float:
    """One timing: `number` passes over `inputs`, per call."""

    def run() -> None:
        for item in inputs:
            parse(item)  # type: ignore[operator]

    return timeit.timeit(run, number=number) / (number * len(inputs))


def compare(ours: tuple[object, list], theirs: tuple[object, list], repeat: int) -> tuple[float, float]:
    """Calls per second of each, timed in turns (ours, theirs, ours, ...) and the best turn of each kept: this
    machine's speed wanders by tens of percent from one second to the next, and a ratio of two figures taken at
    different moments wanders with it."""
    ours_number = max(1, round(0.2 / (seconds_per_call(*ours, 1) * len(ours[1]))))
    theirs_number = max(1, round(0.2 / (seconds_per_call(*theirs, 1) * len(theirs[1]))))
    best_ours = best_theirs = float("inf")
    for _ in range(repeat):
        best_ours = min(best_ours, seconds_per_call(*ours, ours_number))
        best_theirs = min(best_theirs, seconds_per_call(*theirs, theirs_number))
    return 1 / best_ours, 1 / best_theirs


@contextmanager
def _pure_python_crc() -> Iterator[None]:
    """Time the parser as it runs where the CRC accelerator has no wheel (32-bit Raspberry Pi OS)."""
    saved = parser_module.crc16_arc
    parser_module.crc16_arc = crc16_arc_pure
    try:
        yield
    finally:
        parser_module.crc16_arc = saved


def parse_cold(data: bytes) -> object:
    """A parse with nothing remembered of earlier telegrams: every line matched and read, as for a meter's first
    telegram (the remembered lines are forgotten before each parse; the cost of that is a few microseconds)."""
    parser_module._lines.clear()
    for cached in (parser_module._peak, parser_module._month_peaks, parser_module._reading):
        cached.cache_clear()
    return parse_telegram(data)


def simulated_stream(count: int) -> list[bytes]:
    """Consecutive telegrams of the simulated meter on a sunny afternoon: what a parser meets in a real import,
    where most objects repeat from one second to the next and some change every second."""
    meter = SimulatedMeter(1, datetime(2026, 6, 10, 12, 0, tzinfo=BRUSSELS))
    return [meter.step() for _ in range(count)]


def _accepted_by(parser: object, text: str) -> bool:
    try:
        parser.parse(text)  # type: ignore[attr-defined]
    except Exception:
        return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--telegrams", type=Path, default=TELEGRAMS, help="folder of telegram files")
    parser.add_argument("--repeat", type=int, default=15, help="turns of each parser (default 15)")
    parser.add_argument("--stream", type=int, default=600, help="telegrams of the simulated stream (default 600)")
    args = parser.parse_args()
    telegrams = belgian_telegrams(args.telegrams)
    sizes = sum(len(t) for t in telegrams) / len(telegrams)
    print(f"{len(telegrams)} Belgian telegrams with a valid CRC, {sizes:.0f} bytes on average; CRC backend {BACKEND}")
    try:
        from dsmr_parser import telegram_specifications  # noqa: PLC0415 - development-only comparison
        from dsmr_parser.parsers import TelegramParser  # noqa: PLC0415
    except ImportError:
        print("dsmr_parser is not installed (pip install -e '.[dev]'): no comparison", file=sys.stderr)
        return 0
    theirs_parser = TelegramParser(telegram_specifications.BELGIUM_FLUVIUS, apply_checksum_validation=True)
    both = [t for t in telegrams if _accepted_by(theirs_parser, t.decode("latin-1"))]
    texts = [t.decode("latin-1") for t in both]
    print(f"{len(both)} of them are accepted by dsmr_parser too; both parsers are timed on those, in turns")
    ours, theirs = compare((parse_telegram, both), (theirs_parser.parse, texts), args.repeat)
    print(f"  all of them:    meter-tui {ours:8,.0f}/s  dsmr_parser {theirs:6,.0f}/s  ratio {ours / theirs:5.1f} x")
    reference = args.telegrams / REFERENCE
    data = reference.read_bytes()
    text = [data.decode("latin-1")]
    ours, theirs = compare((parse_telegram, [data]), (theirs_parser.parse, text), args.repeat)
    print(f"  the largest ({len(data)} bytes, three phases, gas, water, 98.1.0: {REFERENCE[:32]}...):")
    print(f"                  meter-tui {ours:8,.0f}/s  dsmr_parser {theirs:6,.0f}/s  ratio {ours / theirs:5.1f} x"
          "  (target 30 x)")  # fmt: skip
    ours, theirs = compare((parse_cold, [data]), (theirs_parser.parse, text), args.repeat)
    print("  the same telegram read cold, every line new (a meter's first telegram):")
    print(f"                  meter-tui {ours:8,.0f}/s  dsmr_parser {theirs:6,.0f}/s  ratio {ours / theirs:5.1f} x")
    stream = simulated_stream(args.stream)
    stream_texts = [t.decode("latin-1") for t in stream]
    ours, theirs = compare((parse_telegram, stream), (theirs_parser.parse, stream_texts), args.repeat)
    print(
        f"  a moving meter: {len(stream):,} one-second telegrams of the simulated household in order, from noon"
        " (powers, voltages and currents change every second, registers every few):"
    )
    print(f"                  meter-tui {ours:8,.0f}/s  dsmr_parser {theirs:6,.0f}/s  ratio {ours / theirs:5.1f} x")
    with _pure_python_crc():
        ours, theirs = compare((parse_telegram, [data]), (theirs_parser.parse, text), args.repeat)
    print("  the same, with the pure-Python CRC of 32-bit Raspberry Pi OS (no anycrc wheel there):")
    print(f"                  meter-tui {ours:8,.0f}/s  dsmr_parser {theirs:6,.0f}/s  ratio {ours / theirs:5.1f} x"
          "  (was 10 x)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
