"""bytes of one framed telegram -> `Telegram`.

One regular expression splits the whole telegram into (code, values) in C, and one dictionary lookup per object
finds what fills the typed fields, instead of a regular expression tried per line per object: this is what makes
the parser fast enough to import months of one-second telegrams in seconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from typing import Any

from meter_tui.p1.crc import crc16_arc
from meter_tui.p1.errors import CrcError, FramingError, TelegramError, TelegramValueError
from meter_tui.p1.quantities import PARSED, Rule
from meter_tui.p1.telegram import DataObject, MbusDevice, MbusReading, MonthPeak, Peak, Phase, Tariff, Telegram
from meter_tui.p1.values import decode_octets, parse_int, parse_quantity, parse_timestamp

# A line is `code(v1)(v2)...`: the expression yields (code, '(v1)(v2)...') for each, in C, in one call.
# German meters append the OBIS billing suffix `*255` to codes; the expression leaves it out of the code.
_OBJECT = re.compile(r"^([^(*\r\n]+)(?:\*\d+)?(\(.*\))\r?$", re.MULTILINE)
_CRC_FIELD = re.compile(rb"[0-9A-Fa-f]{0,4}")
_PEAK_REFERENCE = "1-0:1.6.0"
_TARIFFS = {1: Tariff.DAY, 2: Tariff.NIGHT}
_MILLI = frozenset({"W", "Wh"})  # foreign meters that count in W and Wh; the Telegram always holds kW and kWh

# A handler gets the object's values as sent, with their parentheses: '(v1)(v2)'.
Handler = Callable[["_Builder", str], None]


class _Builder:
    """The mutable state of one parse; frozen into a Telegram at the end."""

    __slots__ = ("extra", "fields", "mbus", "phases", "relays")

    def __init__(self) -> None:
        self.fields: dict[str, Any] = {}
        self.phases: tuple[dict[str, float], ...] = ({}, {}, {})
        self.mbus: dict[int, dict[str, Any]] = {}
        self.relays: list[tuple[int, int]] = []
        self.extra: list[tuple[str, int | float | str]] = []

    def device(self, channel: int) -> dict[str, Any]:
        device = self.mbus.get(channel)
        if device is None:
            device = self.mbus[channel] = {}
        return device

    def _phases(self) -> tuple[Phase, ...]:
        l1, l2, l3 = self.phases
        if not (l1 or l2 or l3):
            return ()
        return tuple(
            [
                Phase(number, p.get("import_kw"), p.get("export_kw"), p.get("voltage_v"), p.get("current_a"))
                for number, p in ((1, l1), (2, l2), (3, l3))
                if p
            ]
        )

    def _devices(self) -> tuple[MbusDevice, ...]:
        if not self.mbus:
            return ()
        return tuple([MbusDevice(channel, **self.mbus[channel]) for channel in sorted(self.mbus)])

    def build(self, header: str, crc: int | None, objects: tuple[DataObject, ...], raw: bytes) -> Telegram:
        return Telegram(
            header=header,
            crc=crc,
            objects=objects,
            raw=raw,
            phases=self._phases(),
            relays=tuple(self.relays),
            mbus=self._devices(),
            extra=tuple(self.extra),
            **self.fields,
        )


def _integer(field: str) -> Handler:
    def handle(builder: _Builder, sent: str) -> None:
        builder.fields[field] = parse_int(sent[1:-1])

    return handle


def _text(field: str) -> Handler:
    def handle(builder: _Builder, sent: str) -> None:
        builder.fields[field] = sent[1:-1]

    return handle


def _octets(field: str) -> Handler:
    def handle(builder: _Builder, sent: str) -> None:
        builder.fields[field] = decode_octets(sent[1:-1]) or None

    return handle


def _timestamp(field: str) -> Handler:
    def handle(builder: _Builder, sent: str) -> None:
        builder.fields[field] = parse_timestamp(sent[1:-1])

    return handle


def _tariff(field: str) -> Handler:
    def handle(builder: _Builder, sent: str) -> None:
        builder.fields[field] = _TARIFFS.get(parse_int(sent[1:-1]))

    return handle


def _month_peak(field: str) -> Handler:
    def handle(builder: _Builder, sent: str) -> None:
        builder.fields[field] = _peak(sent)

    return handle


@lru_cache(maxsize=64)
def _peak(sent: str) -> Peak:
    """Cached: the month peak changes a few times a month but is sent every second."""
    stamp, quantity = sent[1:-1].split(")(")
    time = parse_timestamp(stamp)
    return Peak(time, parse_quantity(quantity)[0] if time is not None else None)


def _peak_history(field: str) -> Handler:
    def handle(builder: _Builder, sent: str) -> None:
        history = _month_peaks(sent)
        if history is not None:
            builder.fields[field] = history

    return handle


@lru_cache(maxsize=64)
def _month_peaks(sent: str) -> tuple[MonthPeak, ...] | None:
    """0-0:98.1.0(N)(1-0:1.6.0)(1-0:1.6.0)(T)(P)(V)...: take the entries that are there, whatever N says.

    Cached: the history changes once a month but is sent every second. Other countries use 98.1.0 for other data
    (billing values in Hungary): without the 1-0:1.6.0 references it is not a peak history (None) and stays only
    a generic object.
    """
    values = sent[1:-1].split(")(")
    if not values[0].isdigit() or (len(values) > 1 and values[1] != _PEAK_REFERENCE):
        return None
    rest = values[3:]
    entries = []
    for index in range(0, len(rest) - 2, 3):
        closed = parse_timestamp(rest[index])
        if closed is None:
            continue
        peak_time = parse_timestamp(rest[index + 1])
        kw = parse_quantity(rest[index + 2])[0] if peak_time is not None else None
        month = date(closed.year - 1, 12, 1) if closed.month == 1 else date(closed.year, closed.month - 1, 1)
        entries.append(MonthPeak(month, peak_time, kw))
    return tuple(entries)


def _extra_integer(key: str) -> Handler:
    def handle(builder: _Builder, sent: str) -> None:
        builder.extra.append((key, parse_int(sent[1:-1])))

    return handle


def _extra_number(key: str) -> Handler:
    def handle(builder: _Builder, sent: str) -> None:
        builder.extra.append((key, parse_quantity(sent[1:-1])[0]))

    return handle


@lru_cache(maxsize=64)
def _mbus_reading(sent: str) -> MbusReading:
    """Cached: an M-Bus meter reports every 5 minutes, the electricity meter repeats it every second."""
    stamp, quantity = sent[1:-1].split(")(")
    value, unit = parse_quantity(quantity)
    return MbusReading(parse_timestamp(stamp), value, unit)


def _relay(builder: _Builder, channel: int, sent: str) -> None:
    builder.relays.append((channel, parse_int(sent[1:-1])))


def _device_type(builder: _Builder, channel: int, sent: str) -> None:
    builder.device(channel)["device_type"] = parse_int(sent[1:-1])


def _device_serial(builder: _Builder, channel: int, sent: str) -> None:
    builder.device(channel)["serial"] = decode_octets(sent[1:-1]) or None


def _device_ean(builder: _Builder, channel: int, sent: str) -> None:
    builder.device(channel)["ean"] = decode_octets(sent[1:-1]) or None


def _valve(builder: _Builder, channel: int, sent: str) -> None:
    builder.device(channel)["valve"] = parse_int(sent[1:-1])


def _reading(builder: _Builder, channel: int, sent: str) -> None:
    builder.device(channel)["reading"] = _mbus_reading(sent)


def _old_reading(builder: _Builder, channel: int, sent: str) -> None:
    """DSMR 2/3: (time)(status)(period)(count)(reference)(unit)(value), the value often on the next line."""
    values = sent[1:-1].split(")(")
    builder.device(channel)["reading"] = MbusReading(parse_timestamp(values[0]), float(values[6]), values[5])


# Each parse rule of the quantities table, as a handler factory (given the field) or a channel handler.
_FIELD_RULES: dict[Rule, Callable[[str], Handler]] = {
    Rule.INTEGER: _integer,
    Rule.TEXT: _text,
    Rule.OCTETS: _octets,
    Rule.TIMESTAMP: _timestamp,
    Rule.TARIFF: _tariff,
    Rule.PEAK: _month_peak,
    Rule.PEAK_HISTORY: _peak_history,
}
_EXTRA_RULES: dict[Rule, Callable[[str], Handler]] = {Rule.INTEGER: _extra_integer, Rule.NUMBER: _extra_number}
ChannelHandler = Callable[[_Builder, int, str], None]
_CHANNEL_RULES: dict[Rule, ChannelHandler] = {
    Rule.RELAY: _relay,
    Rule.DEVICE_TYPE: _device_type,
    Rule.DEVICE_SERIAL: _device_serial,
    Rule.DEVICE_EAN: _device_ean,
    Rule.VALVE: _valve,
    Rule.READING: _reading,
    Rule.OLD_READING: _old_reading,
}


def _routing() -> tuple[dict[str, tuple[int, str]], dict[str, Handler], dict[str, ChannelHandler]]:
    """The parse loop's three lookups, derived from the quantities table: numbers written inline (code -> target
    and field, target 0 being the Telegram and 1 to 3 the phases: two thirds of every telegram), other objects of
    the meter (code -> handler) and objects of M-Bus channels (what follows `0-n:` -> handler)."""
    numeric: dict[str, tuple[int, str]] = {}
    handlers: dict[str, Handler] = {}
    channel: dict[str, ChannelHandler] = {}
    for code, row in PARSED.items():
        if row.rule in _CHANNEL_RULES:
            channel[code.split(":", 1)[1]] = _CHANNEL_RULES[row.rule]
        elif row.rule is Rule.NUMBER and row.field:
            numeric[code] = (row.phase, row.field)
        elif not row.field and row.rule in _EXTRA_RULES:
            handlers[code] = _EXTRA_RULES[row.rule](row.key)
        elif row.rule in _FIELD_RULES:
            handlers[code] = _FIELD_RULES[row.rule](row.field)
    return numeric, handlers, channel


_NUMERIC, _HANDLERS, _CHANNEL_HANDLERS = _routing()


def _trailer_crc(data: bytes, end: int) -> int | None:
    """The CRC after '!': up to 4 hex digits (some meters drop leading zeros), then a line end or nothing."""
    digits = _CRC_FIELD.match(data, end).end()  # type: ignore[union-attr] - {0,4} always matches
    if digits < len(data) and data[digits] not in (0x0D, 0x0A):
        raise FramingError(f"malformed CRC field after '!': {data[end : end + 6]!r}", end)
    return int(data[end:digits], 16) if digits > end else None


def parse_telegram(data: bytes, *, verify_crc: bool = True) -> Telegram:
    """Check and parse one telegram, from its '/' to its CRC (a trailing line end is allowed).

    Raises `TelegramError` (`CrcError`, `FramingError`, `TelegramValueError`) and nothing else. With
    `verify_crc=False` a telegram whose CRC is wrong is still read: for explaining a rejected telegram, never as data.
    """
    try:
        return _parse(data, verify_crc)
    except TelegramError:
        raise
    except Exception as error:  # the contract: nothing but TelegramError escapes, whatever the bytes
        raise FramingError(f"unreadable telegram: {error}") from error


def _parse(data: bytes, verify_crc: bool) -> Telegram:
    if not data.startswith(b"/"):
        raise FramingError("telegram does not start with '/'")
    bang = data.find(b"\n!")
    if bang < 0:
        raise FramingError("no end line '!': the telegram is incomplete", len(data))
    end = bang + 2
    crc = _trailer_crc(data, end)
    if crc is not None and verify_crc:
        computed = crc16_arc(data[:end])
        if computed != crc:
            raise CrcError(computed, crc, end)
    # latin-1 maps each byte to one character, so offsets in `text` are byte offsets in the frame.
    text = data[: bang + 1].decode("latin-1")
    header_end = text.find("\n")
    header = text[1:header_end].rstrip("\r")
    # Objects that wrap between two values (the spec's 98.1.0, DSMR 2/3 gas) are joined first.
    body = text.replace(")\r\n(", ")(").replace(")\n(", ")(") if ")\n(" in text or ")\r\n(" in text else text
    builder = _Builder()
    objects = tuple(_OBJECT.findall(body, header_end + 1))
    if len(objects) != _count_lines(body, header_end + 1):
        raise _stray_line(text, header_end + 1)
    targets = (builder.fields, *builder.phases)
    code = ""
    try:
        for code, sent in objects:
            numeric = _NUMERIC.get(code)
            if numeric is not None:
                star = sent.find("*")
                if star < 0:
                    targets[numeric[0]][numeric[1]] = float(sent[1:-1])
                elif sent[star + 1 : -1] in _MILLI:
                    targets[numeric[0]][numeric[1]] = float(sent[1:star]) / 1000.0
                else:
                    targets[numeric[0]][numeric[1]] = float(sent[1:star])
                continue
            handler = _HANDLERS.get(code)
            if handler is not None:
                handler(builder, sent)
            elif code[:2] == "0-" and code[3:4] == ":" and code[2] != "0" and code[4:] in _CHANNEL_HANDLERS:
                _CHANNEL_HANDLERS[code[4:]](builder, int(code[2]), sent)
            # Anything else is kept as a generic object only: a meter's odd code (the spec examples have
            # '1-0:99:97.0') is no reason to lose a telegram whose CRC vouches for it.
    except (ValueError, IndexError) as error:
        raise _line_error(text, f"{code}(", f"bad value ({error})", code) from error
    if crc is None and ("timestamp" in builder.fields or "version" in builder.fields):
        # DSMR 4+ and e-MUCS meters always send a CRC: without one, this is a telegram cut off right after '!'.
        raise FramingError("no CRC after '!', though this meter's telegrams carry one", end)
    return builder.build(header, crc, objects, data)


def _count_lines(body: str, start: int) -> int:
    """Non-empty lines from `start` on: every one of them must have been read as an object."""
    lines = body.count("\n", start)
    return lines - body.count("\n\n", start - 1) - body.count("\n\r\n", start - 1)


def _stray_line(text: str, start: int) -> TelegramValueError:
    """The first line that is not `code(values)`, found only once we know there is one."""
    for line in text[start:].split("\n"):
        stripped = line.rstrip("\r")
        if stripped and not _OBJECT.fullmatch(stripped) and not stripped.startswith("("):
            return _line_error(text, stripped, "not an OBIS object")
    return _line_error(text, text[start:].split("\n", 1)[0], "not an OBIS object")


def _line_error(text: str, line_text: str, problem: str, code: str = "") -> TelegramValueError:
    """An error naming the line (1-based, as in an editor) and its byte offset in the frame."""
    offset = text.find(line_text)
    line = text.count("\n", 0, offset) + 1 if offset >= 0 else 0
    return TelegramValueError(problem if code else f"{problem}: {line_text[:60]!r}", max(offset, 0), line, code)
