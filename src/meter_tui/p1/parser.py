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

    __slots__ = ("fields", "mbus", "phases", "relays")

    def __init__(self) -> None:
        self.fields: dict[str, Any] = {}
        self.phases: tuple[dict[str, float], ...] = ({}, {}, {})
        self.mbus: dict[int, dict[str, Any]] = {}
        self.relays: list[tuple[int, int]] = []

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
            **self.fields,
        )


# Objects that are one number with a unit: code -> (target, field), target 0 being the Telegram's own fields and
# 1 to 3 the phases. Handled inline in the parse loop: they are two thirds of every telegram.
_NUMERIC: dict[str, tuple[int, str]] = {
    "1-0:1.8.1": (0, "import_day_kwh"),
    "1-0:1.8.2": (0, "import_night_kwh"),
    "1-0:2.8.1": (0, "export_day_kwh"),
    "1-0:2.8.2": (0, "export_night_kwh"),
    "1-0:1.8.0": (0, "import_total_kwh"),
    "1-0:2.8.0": (0, "export_total_kwh"),
    "1-0:1.7.0": (0, "power_import_kw"),
    "1-0:2.7.0": (0, "power_export_kw"),
    "1-0:1.4.0": (0, "quarter_average_kw"),
    "0-0:17.0.0": (0, "limiter_kw"),
    "1-0:31.4.0": (0, "fuse_a"),
    "1-0:21.7.0": (1, "import_kw"),
    "1-0:41.7.0": (2, "import_kw"),
    "1-0:61.7.0": (3, "import_kw"),
    "1-0:22.7.0": (1, "export_kw"),
    "1-0:42.7.0": (2, "export_kw"),
    "1-0:62.7.0": (3, "export_kw"),
    "1-0:32.7.0": (1, "voltage_v"),
    "1-0:52.7.0": (2, "voltage_v"),
    "1-0:72.7.0": (3, "voltage_v"),
    "1-0:31.7.0": (1, "current_a"),
    "1-0:51.7.0": (2, "current_a"),
    "1-0:71.7.0": (3, "current_a"),
}


def _integer(field: str) -> Handler:
    def handle(builder: _Builder, sent: str) -> None:
        builder.fields[field] = parse_int(sent[1:-1])

    return handle


def _octets(field: str) -> Handler:
    def handle(builder: _Builder, sent: str) -> None:
        builder.fields[field] = decode_octets(sent[1:-1]) or None

    return handle


def _version(builder: _Builder, sent: str) -> None:
    builder.fields["version"] = sent[1:-1]


def _timestamp(builder: _Builder, sent: str) -> None:
    builder.fields["timestamp"] = parse_timestamp(sent[1:-1])


def _tariff(builder: _Builder, sent: str) -> None:
    builder.fields["tariff"] = _TARIFFS.get(parse_int(sent[1:-1]))


def _month_peak(builder: _Builder, sent: str) -> None:
    builder.fields["month_peak"] = _peak(sent)


@lru_cache(maxsize=64)
def _peak(sent: str) -> Peak:
    """Cached: the month peak changes a few times a month but is sent every second."""
    stamp, quantity = sent[1:-1].split(")(")
    time = parse_timestamp(stamp)
    return Peak(time, parse_quantity(quantity)[0] if time is not None else None)


def _peak_history(builder: _Builder, sent: str) -> None:
    history = _month_peaks(sent)
    if history is not None:
        builder.fields["peak_history"] = history


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


_HANDLERS: dict[str, Handler] = {
    "0-0:1.0.0": _timestamp,
    "0-0:96.14.0": _tariff,
    "1-0:1.6.0": _month_peak,
    "0-0:98.1.0": _peak_history,
    "0-0:96.1.4": _version,
    "1-3:0.2.8": _version,
    "0-0:96.3.10": _integer("breaker"),
    "1-0:94.32.1": _integer("grid_config_v"),
    "0-0:96.7.21": _integer("power_failures"),
    "0-0:96.7.9": _integer("long_power_failures"),
    "0-0:96.1.1": _octets("equipment_id"),
    "0-0:96.1.0": _octets("equipment_id"),
    "0-0:96.1.2": _octets("ean"),
    "0-0:96.13.0": _octets("message"),
}


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


# Objects of M-Bus channel n (0-n:...), by what follows the colon. Virtual relays (0-n:96.3.10, e-MUCS 2.x) are
# not M-Bus devices: they must not make a device appear.
_CHANNEL_HANDLERS: dict[str, Callable[[_Builder, int, str], None]] = {
    "96.3.10": _relay,
    "24.1.0": _device_type,
    "96.1.1": _device_serial,
    "96.1.0": _device_serial,
    "96.1.2": _device_ean,
    "24.4.0": _valve,
    "24.2.1": _reading,
    "24.2.3": _reading,
    "24.3.0": _old_reading,
}


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
