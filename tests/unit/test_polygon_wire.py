"""wire.py: typed decoding of every recorded event shape, exact timestamps, and the never-crashing slow path."""

from __future__ import annotations

import pytest

from core.adapters.polygon.wire import FrameDecoder, Luld, MinuteAgg, Quote, SecondAgg, Status, Trade, encode_action
from core.domain.market import utc_from_epoch
from tests.doubles.polygon import FIXTURES


def test_every_recorded_event_decodes_typed() -> None:
    decoder = FrameDecoder()
    kinds = {name: type(decoder.decode((FIXTURES / name).read_bytes())[0]) for name in (
        "ws_stocks_T_trade.json", "ws_stocks_Q_quote.json", "ws_stocks_A_second_agg.json",
        "ws_stocks_AM_minute_agg.json", "ws_stocks_LULD.json", "ws_options_T_trade.json",
        "ws_options_Q_quote.json", "ws_options_AM_minute_agg.json")}
    assert list(kinds.values()) == [Trade, Quote, SecondAgg, MinuteAgg, Luld, Trade, Quote, MinuteAgg]
    assert decoder.malformed == 0


def test_statuses_from_handshake_and_errors() -> None:
    decoder = FrameDecoder()
    lines = [*(FIXTURES / "ws_status_handshake_marketstore.jsonl").read_bytes().splitlines(),
             *(FIXTURES / "ws_status_errors_marketstore.jsonl").read_bytes().splitlines()]
    statuses = [m for line in lines for m in decoder.decode(line)]
    assert all(isinstance(s, Status) for s in statuses)
    assert [s.status for s in statuses if isinstance(s, Status)][-3:] == ["auth_failed", "auth_timeout",
                                                                          "max_connections"]


def test_fields_and_time_units_are_exact_ints() -> None:
    decoder = FrameDecoder()
    trade = decoder.decode((FIXTURES / "ws_stocks_T_trade.json").read_bytes())[0]
    assert isinstance(trade, Trade)
    assert (trade.symbol, trade.price, trade.size, trade.trade_id, trade.conditions) == (
        "MSFT", 114.125, 100, "12345", [0, 12])
    assert isinstance(trade.ts_ms, int) and utc_from_epoch(trade.ts_ms, "ms").isoformat() == (
        "2018-09-04T04:53:38.784000+00:00")
    quote = decoder.decode((FIXTURES / "ws_stocks_Q_quote.json").read_bytes())[0]
    assert isinstance(quote, Quote) and (quote.bid, quote.ask, quote.bid_size, quote.ask_size) == (
        114.125, 114.128, 100, 160)
    luld = decoder.decode((FIXTURES / "ws_stocks_LULD.json").read_bytes())[0]
    assert isinstance(luld, Luld) and luld.symbol == "MSFT"
    assert utc_from_epoch(luld.ts_us, "us").isoformat() == "2020-09-28T18:12:32.683746+00:00"
    assert utc_from_epoch(1652192754171838500, "ns").microsecond == 171838  # above 2^53, no float rounding


def test_a_frame_mixing_events_and_statuses() -> None:
    frame = (b'[{"ev":"status","status":"success","message":"subscribed to: T.MSFT"},'
             b'{"ev":"T","sym":"MSFT","p":1.5,"s":3,"t":1},{"ev":"Q","sym":"MSFT","bp":1,"bs":1,"ap":2,'
             b'"as":1,"t":2}]')
    assert [type(m) for m in FrameDecoder().decode(frame)] == [Status, Trade, Quote]


@pytest.mark.parametrize("frame", [
    b'{"ev":"T","sym":"MSFT","p":1.5,"s":3,"t":1}',  # not an array
    b'[{"ev":"NOPE","sym":"MSFT"}]',  # unknown ev
    b'[{"ev":"T","sym":"MSFT","p":1.5}]',  # missing fields
    b'[{"ev":"T","sym":"MSFT","p":"1.5","s":3,"t":1}]',  # strings for numbers
    b'[{"sym":"MSFT","p":1.5,"s":3,"t":1}]',  # no ev at all
    b"[" + b"x" * (1 << 20),  # 1 MB of garbage
    b"",
])
def test_malformed_frames_are_counted_not_raised(frame: bytes) -> None:
    decoder = FrameDecoder()
    assert decoder.decode(frame) == []
    assert decoder.malformed == 1


def test_good_events_of_a_bad_frame_survive() -> None:
    decoder = FrameDecoder()
    out = decoder.decode(b'[{"ev":"T","sym":"A","p":1.0,"s":1,"t":1},{"ev":"T","sym":"B","p":"x"},'
                         b'{"ev":"ZZ"},{"ev":"T","sym":"C","p":2.0,"s":1,"t":2}]')
    assert [m.symbol for m in out if isinstance(m, Trade)] == ["A", "C"]
    assert decoder.malformed == 2


def test_a_one_megabyte_frame_of_real_events_decodes() -> None:
    event = (FIXTURES / "ws_stocks_T_trade.json").read_bytes().strip()[1:-1]
    frame = b"[" + b",".join([event] * 6000) + b"]"
    assert len(frame) > 1_000_000
    assert len(FrameDecoder().decode(frame)) == 6000


def test_control_messages() -> None:
    assert encode_action("subscribe", "T.AAPL,Q.AAPL") == '{"action":"subscribe","params":"T.AAPL,Q.AAPL"}'
