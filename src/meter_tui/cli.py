"""The command line: `meter-tui` (the app) and its subcommands.

Each subcommand lives in a small function here that parses nothing itself and calls into the package, so the
same code paths serve the CLI, the app and the tests.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from meter_tui import __version__
from meter_tui.p1.export import telegram_to_json
from meter_tui.p1.reader import ReadResult, TelegramReader

_CHUNK = 1 << 16


def read_capture(path: Path) -> Iterator[ReadResult]:
    """Every frame of a capture file, read in chunks so that a capture of months needs little memory."""
    reader = TelegramReader()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            yield from reader.feed(chunk)
    yield from reader.flush()


def _parse_command(args: argparse.Namespace) -> int:
    status = 0
    out = sys.stdout
    for path in args.files:
        try:
            results = list(read_capture(path))
        except OSError as error:
            print(f"meter-tui parse: cannot read {path}: {error.strerror or error}", file=sys.stderr)
            status = 1
            continue
        for result in results:
            record: dict[str, Any]
            if result.telegram is not None:
                record = telegram_to_json(result.telegram)
            else:
                assert result.error is not None
                record = {"error": result.error.message, "offset": result.offset}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    out.flush()
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="meter-tui",
        description="Watch a Belgian digital electricity meter (P1 port) in the terminal.",
    )
    parser.add_argument("--version", action="version", version=f"meter-tui {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    parse = commands.add_parser(
        "parse",
        help="print the telegrams of capture files as JSON Lines",
        description="Print one JSON object per telegram found in the files; a rejected one as {error, offset}.",
    )
    parse.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parse.set_defaults(handler=_parse_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args))
    except BrokenPipeError:
        # `meter-tui parse big.cap | head`: the reader went away, which is not an error of ours.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130
