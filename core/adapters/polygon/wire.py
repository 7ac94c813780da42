"""Polygon (Massive) WebSocket wire format: msgspec structs tagged on ``ev`` and a never-crashing frame decoder.

Every frame is a JSON array that may mix events and status messages. The fast path decodes the whole frame into
typed structs in one call; when that fails the slow path decodes it untyped and converts item by item, so the
good events of a bad frame survive and each bad item is counted. Times stay ints: ``t``/``s``/``e`` are epoch
milliseconds, LULD ``t`` is microseconds. Numbers sent as strings are rejected (msgspec is strict).
"""

from __future__ import annotations

from typing import Any

import msgspec
import structlog

log = structlog.get_logger("polygon.wire")

_LOG_FIRST = 10
_LOG_EVERY = 1000
_PREVIEW = 120


class Trade(msgspec.Struct, tag="T", tag_field="ev", gc=False):
    symbol: str = msgspec.field(name="sym")
    price: float = msgspec.field(name="p")
    size: int = msgspec.field(name="s")
    ts_ms: int = msgspec.field(name="t")
    exchange: int = msgspec.field(default=0, name="x")
    trade_id: str = msgspec.field(default="", name="i")
    tape: int = msgspec.field(default=0, name="z")
    conditions: list[int] = msgspec.field(default_factory=list, name="c")
    seq: int = msgspec.field(default=0, name="q")


class Quote(msgspec.Struct, tag="Q", tag_field="ev", gc=False):
    symbol: str = msgspec.field(name="sym")
    bid: float = msgspec.field(name="bp")
    bid_size: int = msgspec.field(name="bs")
    ask: float = msgspec.field(name="ap")
    ask_size: int = msgspec.field(name="as")
    ts_ms: int = msgspec.field(name="t")
    bid_exchange: int = msgspec.field(default=0, name="bx")
    ask_exchange: int = msgspec.field(default=0, name="ax")
    condition: int = msgspec.field(default=0, name="c")
    indicators: list[int] = msgspec.field(default_factory=list, name="i")
    seq: int = msgspec.field(default=0, name="q")
    tape: int = msgspec.field(default=0, name="z")


class _Aggregate(msgspec.Struct, tag_field="ev", gc=False):
    symbol: str = msgspec.field(name="sym")
    open: float = msgspec.field(name="o")
    high: float = msgspec.field(name="h")
    low: float = msgspec.field(name="l")
    close: float = msgspec.field(name="c")
    volume: float = msgspec.field(name="v")
    start_ms: int = msgspec.field(name="s")
    end_ms: int = msgspec.field(name="e")
    day_volume: float = msgspec.field(default=0, name="av")
    official_open: float | None = msgspec.field(default=None, name="op")
    vwap: float | None = msgspec.field(default=None, name="vw")
    day_vwap: float | None = msgspec.field(default=None, name="a")
    avg_size: float | None = msgspec.field(default=None, name="z")
    otc: bool = False


class SecondAgg(_Aggregate, tag="A"):
    """Per-second aggregate (`A.*`)."""


class MinuteAgg(_Aggregate, tag="AM"):
    """Per-minute aggregate (`AM.*`); may arrive late on purpose, and a minute without trades has none."""


class Luld(msgspec.Struct, tag="LULD", tag_field="ev", gc=False):
    symbol: str = msgspec.field(name="T")
    high: float = msgspec.field(name="h")
    low: float = msgspec.field(name="l")
    ts_us: int = msgspec.field(name="t")
    indicators: list[int] = msgspec.field(default_factory=list, name="i")
    tape: int = msgspec.field(default=0, name="z")
    seq: int = msgspec.field(default=0, name="q")


class Status(msgspec.Struct, tag="status", tag_field="ev", gc=False):
    status: str
    message: str = ""


Message = Trade | Quote | SecondAgg | MinuteAgg | Luld | Status

_frame_decoder = msgspec.json.Decoder(list[Message])
_any_decoder = msgspec.json.Decoder()


class FrameDecoder:
    """Decodes frames; counts (and logs, rate-limited) malformed frames and items instead of raising."""

    def __init__(self) -> None:
        self.malformed = 0

    def decode(self, frame: bytes | str) -> list[Message]:
        try:
            return _frame_decoder.decode(frame)
        except msgspec.DecodeError as exc:
            return self._salvage(frame, exc)

    def _salvage(self, frame: bytes | str, error: msgspec.DecodeError) -> list[Message]:
        try:
            items: Any = _any_decoder.decode(frame)
        except msgspec.DecodeError as exc:
            self._bad(frame, "not JSON", exc)
            return []
        if not isinstance(items, list):
            self._bad(frame, "not an array", error)
            return []
        good: list[Message] = []
        for item in items:
            try:
                good.append(msgspec.convert(item, Message))
            except msgspec.ValidationError as exc:
                self._bad(frame, "bad item", exc)
        return good

    def _bad(self, frame: bytes | str, kind: str, exc: Exception) -> None:
        self.malformed += 1
        if self.malformed <= _LOG_FIRST or self.malformed % _LOG_EVERY == 0:
            preview = frame[:_PREVIEW]
            log.warning("polygon_malformed", kind=kind, error=str(exc)[:200], size=len(frame),
                        preview=preview.decode("utf-8", "replace") if isinstance(preview, bytes) else preview,
                        malformed_total=self.malformed)


def encode_action(action: str, params: str) -> str:
    """A client control message (`auth`, `subscribe`, `unsubscribe`) as text: Polygon reads control messages
    from text frames only, so one sent as a binary frame is never seen (no auth, then no data)."""
    return msgspec.json.encode({"action": action, "params": params}).decode()
