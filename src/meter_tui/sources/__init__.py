"""Where bytes come from: the serial port, a network P1 reader, a replay, the simulated meter; and the one owner
of the meter that every other process follows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from meter_tui.config import MeterConfig
from meter_tui.sources.base import ByteSource, SourceError
from meter_tui.sources.demo import DemoSource
from meter_tui.sources.identity import MeterIdentity, port_identity
from meter_tui.sources.replay import ReplaySource
from meter_tui.sources.serial import SerialSource


@dataclass(frozen=True, slots=True)
class SourceChoice:
    """What to read, as the command line and config chose it. `identity` names the meter for the one-owner lock."""

    demo: bool = False
    seed: int = 1
    demo_speed: float = 1.0
    replay: Path | None = None
    replay_speed: float | None = 1.0
    loop: bool = False

    def identity(self, meter: MeterConfig) -> MeterIdentity:
        if self.demo:
            return MeterIdentity(f"demo:{self.seed}:{self.demo_speed:g}")
        if self.replay is not None:
            return MeterIdentity(f"replay:{self.replay.resolve()}")
        return port_identity(meter.port)

    def factory(self, meter: MeterConfig) -> Callable[[], ByteSource]:
        if self.demo:
            return lambda: DemoSource(self.seed, speed=self.demo_speed)
        if self.replay is not None:
            replay = self.replay
            return lambda: ReplaySource(replay, speed=self.replay_speed, loop=self.loop)
        return lambda: SerialSource(
            meter.port, baudrate=meter.baudrate, bytesize=meter.bytesize, parity=meter.parity, stopbits=meter.stopbits
        )


__all__ = ["ByteSource", "DemoSource", "ReplaySource", "SerialSource", "SourceChoice", "SourceError"]
