"""The command line: `meter-tui` (the app) and its subcommands.

Each subcommand lives in a small function here that parses nothing itself and calls into the package, so the
same code paths serve the CLI, the app and the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meter_tui import __version__
from meter_tui import config as settings
from meter_tui.config import Config, ConfigError, history_path, load_config, rates_path, run_dir, serve_dir
from meter_tui.energy.rates import RatesError
from meter_tui.p1.export import telegram_to_json
from meter_tui.p1.reader import ReadResult, TelegramReader
from meter_tui.sources import DemoSource, SourceChoice
from meter_tui.sources.hub import SharedMeter
from meter_tui.store.database import StoreError

if TYPE_CHECKING:
    from meter_tui.mqtt.publisher import MqttPublisher

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


def _source_options(parser: argparse.ArgumentParser, *, port_flag: str = "--port") -> None:
    """Where the telegrams come from: the same options for the app, `record` and `serve` (whose `--port` is the
    HTTP port, so the meter's is `--meter-port` there)."""
    group = parser.add_argument_group("meter source (default: the serial port of the config file, /dev/ttyUSB0)")
    choice = group.add_mutually_exclusive_group()
    choice.add_argument(
        port_flag, dest="port", help="serial device or pyserial URL: /dev/ttyUSB0, socket://host:port, rfc2217://"
    )
    choice.add_argument("--demo", action="store_true", help="the built-in simulated meter, no hardware needed")
    choice.add_argument("--replay", type=Path, metavar="FILE", help="play a capture file")
    group.add_argument("--seed", type=int, default=1, help="demo meter seed (default 1)")
    group.add_argument("--speed", type=float, default=None, help="replay or demo speed factor (default 1 = real time)")
    group.add_argument("--fast", action="store_true", help="replay as fast as possible")
    group.add_argument("--loop", action="store_true", help="replay the capture again and again")


def _choice(args: argparse.Namespace) -> SourceChoice:
    speed = args.speed if args.speed is not None else 1.0
    if speed <= 0:
        raise ConfigError("--speed must be positive")
    return SourceChoice(
        demo=args.demo,
        seed=args.seed,
        demo_speed=speed,
        replay=args.replay,
        replay_speed=None if args.fast else speed,
        loop=args.loop,
    )


_SAID: set[str] = set()  # the config file's warnings already printed by this process


def _config(args: argparse.Namespace) -> Config:
    """The settings of the config file and the command line; its warnings said at once (the app shows them in its
    event log instead)."""
    config = load_config()
    if args.handler is not _app_command:
        for warning in set(config.warnings) - _SAID:
            print(f"meter-tui: {warning}", file=sys.stderr)
            _SAID.add(warning)
    if getattr(args, "port", None):
        config = replace(config, meter=replace(config.meter, port=args.port))
    return config


def shared_meter(args: argparse.Namespace, config: Config) -> SharedMeter:
    """The meter every command reads. The demo meter is one household whatever process runs it: the process that
    owns it resumes it from its history (a first run without --db simulates some weeks of history first, about 2 s
    here, once), and a process that takes over from another goes on from the last telegram it saw."""
    choice = _choice(args)
    identity = choice.identity(config.meter)
    meter = SharedMeter(
        choice.factory(config.meter),
        key=identity.key,
        run_dir=run_dir(),
        silence_timeout=config.meter.silence_timeout,
    )
    meter.note = identity.note
    if choice.demo:
        from meter_tui.services.demo import demo_meter  # noqa: PLC0415
        from meter_tui.sources.simulator import ResumePoint, SimulatedMeter  # noqa: PLC0415

        def say(text: str) -> None:
            print(f"meter-tui: {text}", file=sys.stderr)

        # Only the owner writes the history, so only a process that owns the meter brings it up to date.
        prepared = (
            demo_meter(db_path(args, config), choice.seed, prehistory=not args.db, say=say) if meter.claim() else None
        )

        def demo_source() -> DemoSource:
            seen = meter.last_telegram
            point = ResumePoint.from_telegram(seen) if seen is not None else None
            resumed = SimulatedMeter(choice.seed, resume=point) if point is not None else prepared
            return DemoSource(choice.seed, speed=choice.demo_speed, meter=resumed)

        meter.make_source = demo_source
    return meter


def _mqtt_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("MQTT, for Home Assistant and others (needs the mqtt extra)")
    group.add_argument("--mqtt", metavar="URL", help="publish live values to mqtt://user:pass@host:1883 (or mqtts://)")
    group.add_argument("--mqtt-topic", metavar="TOPIC", help="base topic (default meter-tui, or the config file's)")


def mqtt_publisher(args: argparse.Namespace, config: Config, *, log: Callable[[str], None]) -> MqttPublisher | None:
    """The publisher the options or the config file ask for, or None; the password is taken apart from the URL
    when the config file or METER_TUI_MQTT_PASSWORD has it."""
    url = args.mqtt or config.mqtt.url
    if not url:
        return None
    from meter_tui.mqtt.publisher import MqttPublisher  # noqa: PLC0415
    from meter_tui.mqtt.settings import parse_mqtt_url  # noqa: PLC0415

    settings = parse_mqtt_url(
        url,
        topic=args.mqtt_topic or config.mqtt.topic,
        discovery_prefix=config.mqtt.discovery_prefix,
        password=config.mqtt.password,
    )
    return MqttPublisher(settings, log=log)


def _store_options(parser: argparse.ArgumentParser, *, rates: bool = True) -> None:
    parser.add_argument("--db", type=Path, metavar="PATH", help="history database (default: in the user data dir)")
    if rates:
        parser.add_argument("--rates", type=Path, metavar="PATH", help="rates.json (default: in the user config dir)")


def _check_db(db: Path | None) -> None:
    """`--db` naming a folder is refused before anything opens (or chmods) it."""
    if db is not None and db.is_dir():
        raise ConfigError(f"--db {db}: is a directory, expected the history file (such as {db}/meter.sqlite)")


def db_path(args: argparse.Namespace, config: Config) -> Path:
    """The history this command uses; on a disk that is not mounted, refused with a line saying so."""
    _check_db(args.db)
    path = history_path(config, args.db, demo=getattr(args, "demo", False),
                        replay=getattr(args, "replay", None) is not None, seed=getattr(args, "seed", 1))  # fmt: skip
    settings.check_mounted(path.parent, "the history's folder")
    return path


def _demo_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--demo", action="store_true", help="the demo meter's history (demo.sqlite), not the real one")


def shown_history(args: argparse.Namespace, config: Config) -> Path:
    """The history a report reads: the one asked for; with none asked for and no real history yet, the demo's
    when there is one (said in one line), so that the first report after `make demo` shows the demo."""
    chosen = db_path(args, config)
    demo = history_path(config, demo=True)
    if args.db is None and not args.demo and config.store.db is None and not chosen.exists() and demo.exists():
        print(f"meter-tui: no history of a real meter yet: this is the demo meter's ({settings.shown_path(demo)})",
              file=sys.stderr)  # fmt: skip
        return demo
    return chosen


def _rates(args: argparse.Namespace) -> Path:
    return rates_path(args.rates)


def _record_command(args: argparse.Namespace) -> int:
    from meter_tui.commands.record import Recorder  # noqa: PLC0415 - only this command needs it
    from meter_tui.services.session import open_session  # noqa: PLC0415

    config = _config(args)
    session = open_session(config, db_path(args, config), _rates(args))
    recorder = Recorder(shared_meter(args, config), session, capture=args.capture)
    recorder.publisher = mqtt_publisher(args, config, log=recorder.say)
    return asyncio.run(recorder.run())


def _app_command(args: argparse.Namespace) -> int:
    from meter_tui.services.session import open_session  # noqa: PLC0415 - Textual loads only for the app
    from meter_tui.ui.app import create_app  # noqa: PLC0415

    config = _config(args)
    session = open_session(config, db_path(args, config), _rates(args))
    # The app logs nothing to the terminal it draws on: the settings screen shows the broker's state.
    publisher = mqtt_publisher(args, config, log=lambda _: None)
    port = None if args.demo or args.replay else config.meter.port  # a serial device: Settings names it stably
    meter = shared_meter(args, config)
    notes = (*settings.tightened, *config.warnings, *([meter.note] if meter.note else []))
    app = create_app(session, meter.events, publisher=publisher, read_only=args.read_only, port=port,
                     notes=notes)  # fmt: skip
    app.run()
    # An app that died of an error (Textual has printed it) exits non-zero, so cron and systemd see it end.
    return app.return_code or 0


def served_app_arguments(args: argparse.Namespace) -> list[str]:
    """The command line of the app that `serve` starts for each browser tab: its source and store options."""
    _choice(args)  # a bad --speed is refused here, not in every tab
    _check_db(args.db)
    forwarded: list[str] = []
    if args.port:
        forwarded += ["--port", args.port]
    if args.demo:
        forwarded += ["--demo", "--seed", str(args.seed)]
    if args.replay:
        forwarded += ["--replay", str(args.replay.resolve())]
    if args.speed is not None:
        forwarded += ["--speed", f"{args.speed:g}"]
    forwarded += ["--fast"] * args.fast + ["--loop"] * args.loop
    if args.db:
        forwarded += ["--db", str(args.db.resolve())]
    if args.rates:
        forwarded += ["--rates", str(args.rates.resolve())]
    if not args.allow_edit:
        forwarded.append("--read-only")  # a browser tab shows the prices; changing them needs --allow-edit
    return forwarded


def _serve_command(args: argparse.Namespace) -> int:
    from meter_tui.ui.serve import ServeOptions, serve  # noqa: PLC0415
    from meter_tui.ui.serve_token import announce, serve_token, start_urls  # noqa: PLC0415

    forwarded = served_app_arguments(args)
    if args.max_tabs < 1 or not 0 < args.idle_minutes < 1e6:
        raise ConfigError("serve: --max-tabs must be at least 1 and --idle-minutes a number of minutes above 0")
    folder = settings.private_dir(serve_dir())  # the kept token lives there
    token = serve_token(args.token, args.token_file, args.host, folder)
    urls = start_urls(args.host, args.http_port, args.public_url)
    options = ServeOptions(host=args.host, port=args.http_port, public_url=args.public_url,
                           token=token.value if token else None, allow_hosts=tuple(args.allow_host),
                           max_tabs=args.max_tabs, idle_seconds=args.idle_minutes * 60)  # fmt: skip
    serve(forwarded, options, folder, announce(urls, token, terminal=sys.stderr.isatty()))
    return 0


def _import_command(args: argparse.Namespace) -> int:
    from meter_tui.commands.importing import run_import  # noqa: PLC0415

    return run_import(args.files, db_path(args, _config(args)), replace=args.replace)


def _report_command(args: argparse.Namespace) -> int:
    from meter_tui.commands.report import run_report  # noqa: PLC0415

    return run_report(shown_history(args, _config(args)), _rates(args), args.first, args.last, as_json=args.json,
                      month=args.month)  # fmt: skip


def _day_range(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="first", type=_day, metavar="DATE", help="first day, YYYY-MM-DD")
    parser.add_argument("--to", dest="last", type=_day, metavar="DATE", help="last day, YYYY-MM-DD")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day: {text!r} (YYYY-MM-DD)") from None


def _month(text: str) -> str:
    try:
        date.fromisoformat(text + "-01")
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a month as YYYY-MM, got {text!r}") from None
    return text


def _compare_command(args: argparse.Namespace) -> int:
    from meter_tui.commands.report import run_compare  # noqa: PLC0415

    return run_compare(shown_history(args, _config(args)), args.contracts, args.first, args.last, as_json=args.json)


def _export_command(args: argparse.Namespace) -> int:
    from meter_tui.commands.report import run_export  # noqa: PLC0415

    return run_export(shown_history(args, _config(args)), args.first, args.last, args.out)


def _backup_command(args: argparse.Namespace) -> int:
    from meter_tui.commands.maintenance import run_backup  # noqa: PLC0415

    return run_backup(db_path(args, _config(args)), args.to)


def _restore_command(args: argparse.Namespace) -> int:
    from meter_tui.commands.maintenance import run_restore  # noqa: PLC0415

    return run_restore(db_path(args, _config(args)), args.backup)


def _audit_command(args: argparse.Namespace) -> int:
    from meter_tui.commands.audit import run_audit  # noqa: PLC0415

    return run_audit(db_path(args, _config(args)), args.export, as_json=args.json, fill=args.fill)


def _check_command(args: argparse.Namespace) -> int:
    from meter_tui.commands.maintenance import run_check  # noqa: PLC0415

    return run_check(db_path(args, _config(args)))


def _simulate_command(args: argparse.Namespace) -> int:
    from meter_tui.sources.simulator import BRUSSELS, SimulatedMeter  # noqa: PLC0415

    start = datetime.combine(args.start, time(0, 0), tzinfo=BRUSSELS)
    meter = SimulatedMeter(args.seed, start)
    seconds = round(args.days * 86400)
    with args.out.open("wb") as out:
        for _ in range(seconds):
            out.write(meter.step())
    print(f"wrote {seconds} telegrams ({args.days:g} days from {args.start}) to {args.out}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="meter-tui",
        description="Watch a Belgian digital electricity meter (P1 port) in the terminal. Without a command, "
        "start the app.",
    )
    parser.add_argument("--version", action="version", version=f"meter-tui {__version__}")
    _source_options(parser)
    _store_options(parser)
    _mqtt_options(parser)
    parser.add_argument("--read-only", action="store_true", help="settings cannot be changed from the app "
                        "(what `serve` gives a browser tab without --allow-edit)")  # fmt: skip
    parser.set_defaults(handler=_app_command)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    parse = commands.add_parser(
        "parse",
        help="print the telegrams of capture files as JSON Lines",
        description="Print one JSON object per telegram found in the files; a rejected one as {error, offset}.",
    )
    parse.add_argument("files", nargs="+", type=Path, metavar="FILE", help="capture files (raw P1 bytes)")
    parse.set_defaults(handler=_parse_command)

    record = commands.add_parser(
        "record",
        help="read the meter headless (for a service) and keep what it sends",
        description="Read the meter without a screen; SIGTERM or Ctrl-C stops it cleanly.",
    )
    _source_options(record)
    record.add_argument("--capture", type=Path, metavar="FILE", help="also write raw bytes to daily files FILE-DATE")
    _store_options(record)
    _mqtt_options(record)
    record.set_defaults(handler=_record_command)

    server = commands.add_parser(
        "serve",
        help="the app in a web browser (textual-serve), on this machine only unless --host says otherwise",
        description="Serve the app over HTTP; every browser tab runs its own app, "
        "following the one owner of the meter.",
    )
    server.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine)")
    server.add_argument("--port", dest="http_port", type=int, default=8000, help="HTTP port (default 8000)")
    server.add_argument("--public-url", help="the URL the browser uses, behind an ssh tunnel or a proxy")
    server.add_argument("--token-file", type=Path, metavar="FILE", help="the token a browser must give (?token=...), "
                        "read from FILE; or set METER_TUI_SERVE_TOKEN. Off loopback without one, a token is made "
                        "up and kept in the serve folder")  # fmt: skip
    server.add_argument("--token", help="the token on the command line (shown by `ps`: prefer --token-file)")
    server.add_argument("--allow-host", action="append", default=[], metavar="NAME", help="one more name the "
                        "browser may use for this server (besides this machine's and --public-url's)")  # fmt: skip
    server.add_argument("--max-tabs", type=int, default=4, metavar="N", help="browser tabs served at once (default "
                        "4; each runs its own app)")  # fmt: skip
    server.add_argument("--idle-minutes", type=float, default=30.0, metavar="M", help="a tab without a key or click "
                        "for M minutes ends (default 30)")  # fmt: skip
    server.add_argument("--allow-edit", action="store_true", help="let browser tabs change the prices (read-only "
                        "otherwise)")  # fmt: skip
    _source_options(server, port_flag="--meter-port")
    _store_options(server)
    server.set_defaults(handler=_serve_command)

    importer = commands.add_parser(
        "import",
        help="import P1 captures and Fluvius CSV exports into the history",
        description="Import raw telegram captures and Fluvius exports (Dutch or English), detected by content. "
        "Importing the same file again changes nothing.",
    )
    importer.add_argument("files", nargs="+", type=Path, metavar="FILE", help="P1 captures and Fluvius CSV exports")
    importer.add_argument("--replace", action="store_true",
                          help="let a Fluvius export change values an earlier import stored otherwise (each change "
                          "is listed; without it they are kept and listed)")  # fmt: skip
    _store_options(importer, rates=False)
    importer.set_defaults(handler=_import_command)

    report = commands.add_parser(
        "report",
        help="usage, costs and peaks per day and month",
        description="Usage, costs and peaks per day and per month, and the capacity tariff. With no history of "
        "a real meter yet, the demo meter's (said in one line).",
    )
    _day_range(report)
    report.add_argument("--month", type=_month, metavar="YYYY-MM", help="one month, split as the invoice splits it")
    report.add_argument("--json", action="store_true", help="print JSON instead of tables")
    _store_options(report)
    _demo_option(report)
    report.set_defaults(handler=_report_command)

    comparer = commands.add_parser(
        "compare",
        help="what your own quarters would have cost under other contracts",
        description="Price the history under each rates file (a dynamic contract quarter by quarter at the "
        "imported day-ahead prices), per month and in total, with the difference to the first.",
    )
    comparer.add_argument("contracts", nargs="+", type=Path, metavar="RATES.json", help="rates files to compare")
    _day_range(comparer)
    comparer.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _store_options(comparer, rates=False)
    _demo_option(comparer)
    comparer.set_defaults(handler=_compare_command)

    auditor = commands.add_parser(
        "audit",
        help="hold the history against a Fluvius export, quarter by quarter",
        description="Per day and month, the history's quarters and a Fluvius export side by side: the quarters "
        "that differ by more than 0.001 kWh, the month peaks of each, a clock offset between them.",
    )
    auditor.add_argument("export", type=Path, metavar="FLUVIUS.csv", help="a Fluvius quarter-hour export")
    auditor.add_argument("--json", action="store_true", help="print JSON instead of lines")
    auditor.add_argument("--fill", action="store_true",
                         help="store the export's quarters where the history has none (never over data)")  # fmt: skip
    _store_options(auditor, rates=False)
    auditor.set_defaults(handler=_audit_command)

    export = commands.add_parser(
        "export", help="write the quarter-hour table as CSV", description="Write the quarter-hour table as CSV."
    )
    export.add_argument("--csv", action="store_true", help="CSV, the default and only format (kept for scripts)")
    _day_range(export)
    export.add_argument("--out", type=Path, metavar="FILE", help="write to FILE instead of standard output")
    _store_options(export, rates=False)
    _demo_option(export)
    export.set_defaults(handler=_export_command)

    backup = commands.add_parser(
        "backup",
        help="a consistent copy of the history, also while it is being written",
        description="Copy the history with SQLite's backup API. The owner of the meter also keeps 7 daily and 12 "
        "monthly backups in a backups/ folder beside the history by itself.",
    )
    backup.add_argument("--to", type=Path, metavar="FILE", help="where to write it (default: beside the history)")
    _store_options(backup, rates=False)
    _demo_option(backup)
    backup.set_defaults(handler=_backup_command)

    restorer = commands.add_parser(
        "restore",
        help="put a backup back in place of the history",
        description="Check the backup, move the current history aside (never deleted) and put the backup in its "
        "place. Stop meter-tui first.",
    )
    restorer.add_argument("backup", type=Path, metavar="FILE", help="the backup to restore")
    _store_options(restorer, rates=False)
    restorer.set_defaults(handler=_restore_command)

    checker = commands.add_parser(
        "check",
        help="check the history: integrity, gaps, register segments, month peaks",
        description="A short report on the history; exit status 1 when it is damaged or contradicts itself.",
    )
    _store_options(checker, rates=False)
    _demo_option(checker)
    checker.set_defaults(handler=_check_command)

    simulate = commands.add_parser(
        "simulate",
        help="write a capture file of the simulated meter",
        description="Generate N days of one-second telegrams of the simulated household meter, instantly.",
    )
    simulate.add_argument("--days", type=float, default=1.0, help="how many days to simulate (default 1)")
    simulate.add_argument(
        "--start", type=date.fromisoformat, default=date(2026, 1, 5), help="first day, YYYY-MM-DD, local (midnight)"
    )
    simulate.add_argument("--seed", type=int, default=1, help="which household (default 1)")
    simulate.add_argument("--out", type=Path, required=True, metavar="FILE", help="the capture file to write")
    simulate.set_defaults(handler=_simulate_command)
    for command in commands.choices.values():  # a command's mistakes are shown with that command's usage
        command.set_defaults(command_parser=command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    own = getattr(args, "command_parser", parser)
    if unknown:
        own.error(f"unrecognized arguments: {' '.join(unknown)}")
    first, last = getattr(args, "first", None), getattr(args, "last", None)
    if first is not None and last is not None and first > last:
        own.error(f"--from {first} is after --to {last}")
    handler = args.handler
    try:
        settings.own_dirs()
    except settings.FolderError as error:  # a disk not mounted yet: exit non-zero, so cron or systemd can retry
        print(f"meter-tui: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"meter-tui: cannot make its folders private: {error}", file=sys.stderr)
    try:
        return int(handler(args))
    except (ConfigError, StoreError, RatesError) as error:
        print(f"meter-tui: {error}", file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as error:  # a damaged history, met by a query: what is wrong and what to do
        print(f"meter-tui: {_damaged(args, error)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `meter-tui parse big.cap | head`: the reader went away, which is not an error of ours.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        if handler is not _app_command:  # the app logs them in its event log
            for note in settings.tightened:
                print(f"meter-tui: {note}", file=sys.stderr)


def _damaged(args: argparse.Namespace, error: sqlite3.DatabaseError) -> str:
    from meter_tui.store.backup import damaged_advice  # noqa: PLC0415

    try:
        return damaged_advice(db_path(args, _config(args)), error)
    except (ConfigError, AttributeError):
        return f"the history is damaged ({error})"
