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
from pathlib import Path

from meter_tui.p1 import TelegramError, parse_telegram
from meter_tui.p1 import parser as parser_module
from meter_tui.p1.crc import BACKEND, crc16_arc_pure

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


def rate(parse: object, telegrams: list[bytes] | list[str], rounds: int, repeat: int) -> float:
    def run() -> None:
        for telegram in telegrams:
            parse(telegram)  # type: ignore[operator]

    best = min(timeit.repeat(run, number=rounds, repeat=repeat))
    return len(telegrams) * rounds / best


@contextmanager
def _pure_python_crc() -> Iterator[None]:
    """Time the parser as it runs where the CRC accelerator has no wheel (32-bit Raspberry Pi OS)."""
    saved = parser_module.crc16_arc
    parser_module.crc16_arc = crc16_arc_pure
    try:
        yield
    finally:
        parser_module.crc16_arc = saved


def _accepted_by(parser: object, text: str) -> bool:
    try:
        parser.parse(text)  # type: ignore[attr-defined]
    except Exception:
        return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--telegrams", type=Path, default=TELEGRAMS, help="folder of telegram files")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    telegrams = belgian_telegrams(args.telegrams)
    sizes = sum(len(t) for t in telegrams) / len(telegrams)
    print(f"{len(telegrams)} Belgian telegrams with a valid CRC, {sizes:.0f} bytes on average; CRC backend {BACKEND}")
    ours = rate(parse_telegram, telegrams, args.rounds, args.repeat)
    print(f"meter-tui    {ours:10,.0f} telegrams/s")
    with _pure_python_crc():
        pure = rate(parse_telegram, telegrams, args.rounds, args.repeat)
    print(f"meter-tui    {pure:10,.0f} telegrams/s with the pure-Python CRC (the fallback where no wheel exists)")
    try:
        from dsmr_parser import telegram_specifications  # noqa: PLC0415 - development-only comparison
        from dsmr_parser.parsers import TelegramParser  # noqa: PLC0415
    except ImportError:
        print("dsmr_parser is not installed (pip install -e '.[dev]'): no comparison", file=sys.stderr)
        return 0
    theirs_parser = TelegramParser(telegram_specifications.BELGIUM_FLUVIUS, apply_checksum_validation=True)
    both = [t for t in telegrams if _accepted_by(theirs_parser, t.decode("latin-1"))]
    print(f"{len(both)} of them are accepted by dsmr_parser too; both parsers are timed on those")
    ours = rate(parse_telegram, both, args.rounds, args.repeat)
    print(f"meter-tui    {ours:10,.0f} telegrams/s (same set)")
    texts = [t.decode("latin-1") for t in both]
    theirs = rate(theirs_parser.parse, texts, max(1, args.rounds // 20), args.repeat)
    print(f"dsmr_parser  {theirs:10,.0f} telegrams/s (BELGIUM_FLUVIUS, CRC checked)")
    print(f"ratio        {ours / theirs:10.1f} x")
    reference = args.telegrams / REFERENCE
    if reference.exists():
        data = reference.read_bytes()
        ours_one = rate(parse_telegram, [data], args.rounds * 10, args.repeat)
        theirs_one = rate(theirs_parser.parse, [data.decode("latin-1")], args.rounds // 2, args.repeat)
        print(f"one {len(data)}-byte three-phase telegram ({REFERENCE[:40]}...):")
        print(f"  meter-tui {ours_one:,.0f}/s, dsmr_parser {theirs_one:,.0f}/s, ratio {ours_one / theirs_one:.1f} x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
