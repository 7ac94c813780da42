"""Golden JSON: a pick read as the typed `PickView` serializes to the bytes the dict it replaced sent, on REST
(`api.schemas.json_response`, orjson, what `GET /picks` and `GET /picks/{id}` answer) and on `/ws` (`encode_event`,
msgspec, the `picks` event); and a stored `payload` column reads back as the same value. The pinned bytes were
produced by the dict views (and the pydantic copy the picks router kept of them); nothing changed.
"""

from __future__ import annotations

import orjson

from api.schemas import json_response
from core.domain.confidence import Adjustment, Confidence, Factor
from core.domain.events import PicksEvent, encode_event
from core.domain.pick_views import PickSize, PickStatus, card_text
from core.domain.picks import Pick
from core.domain.picks_universe import Universe
from core.domain.setups.rules import Direction
from core.services.picks import UNSIZED_NOTE, PicksPage, pick_row, stored_view

T0 = 1717425000000  # 2024-06-03 14:30 UTC
NOW = T0 + 95_500
SIZE = PickSize(43, "49.45", "risk_budget", "43 sh risks $49.45")


def _picks() -> list[Pick]:
    factors = (Factor("trend", 1.0, 0.1, "with VWAP 189.20"), Factor("freshness", 0.5, 0.25, "ab\u00e9 30s"))
    conf = Confidence(0.71, 0.66, factors, Adjustment(0.08, 0.05, "news", "LLM"))
    forming = Pick("p1abc", "AAPL", "orb15", Direction.LONG, 190.25, 189.1, (191.4, 192.55, 193.0), "range low",
                   "a close below 189.10", PickStatus.FORMING, "2024-06-03", T0, T0 + 60_000, T0 + 3_600_000,
                   T0 + 7_200_000, 190.0, conf, "Opening range breakout.")
    stopped = Pick("p2def", "XYZ", "vwap_reclaim", Direction.SHORT, 0.5123, 0.55, (0.4746,), "swing high", "above 0.55",
                   PickStatus.INVALIDATED, "2024-06-03", T0, T0 + 120_000, T0 + 3_600_000, T0 + 7_200_000, 0.56,
                   Confidence(0.4, 0.4, ()), "Short.", reason="stopped at 0.5500", triggered_ms=T0 + 90_000,
                   closed_ms=T0 + 120_000, mfe_r=0.333333, mae_r=1.0, reached_1r=False, result_r=-1.0, version=3)
    return [forming, stopped]


REST_PAGE = (
    '{"items":[{"id":"p1abc","symbol":"AAPL","setup":"orb15","setup_label":"15-min opening range","direction"'
    ':"long","trigger":"190.25","stop":"189.10","stop_basis":"range low","invalidation":"a close below 189.10'
    '","targets":["191.40","192.55","193.00"],"r_multiples":[1.0,2.0,2.39],"size":{"quantity":43,"one_r_dolla'
    'rs":"49.45","limited_by":"risk_budget","summary":"43 sh risks $49.45"},"size_note":null,"confidence":{"s'
    'core":0.71,"base":0.66,"factors":[{"name":"trend","value":1.0,"weight":0.1,"explanation":"with VWAP 189.'
    '20"},{"name":"freshness","value":0.5,"weight":0.25,"explanation":"abé 30s"}],"adjustment":{"requested":0'
    '.08,"applied":0.05,"reason":"news","label":"LLM"}},"why":"Opening range breakout.","status":"forming","r'
    'eason":"","last":"190.00","as_of":"2024-06-03T14:31:00+00:00","freshness_s":35.5,"created_at":"2024-06-0'
    '3T14:30:00+00:00","expires_at":"2024-06-03T15:30:00+00:00","triggered_at":null,"closed_at":null,"outcome'
    '":{"mfe_r":0.0,"mae_r":0.0,"reached_1r":null,"result_r":null}},{"id":"p2def","symbol":"XYZ","setup":"vwa'
    'p_reclaim","setup_label":"VWAP reclaim","direction":"short","trigger":"0.5123","stop":"0.5500","stop_bas'
    'is":"swing high","invalidation":"above 0.55","targets":["0.4746"],"r_multiples":[1.0],"size":null,"size_'
    'note":"sizing reads the account: only traders see it, in answers only they see","confidence":{"score":0.'
    '4,"base":0.4,"factors":[],"adjustment":null},"why":"Short.","status":"invalidated","reason":"stopped at '
    '0.5500","last":"0.5600","as_of":"2024-06-03T14:32:00+00:00","freshness_s":0.0,"created_at":"2024-06-03T1'
    '4:30:00+00:00","expires_at":"2024-06-03T15:30:00+00:00","triggered_at":"2024-06-03T14:31:30+00:00","clos'
    'ed_at":"2024-06-03T14:32:00+00:00","outcome":{"mfe_r":0.33,"mae_r":1.0,"reached_1r":false,"result_r":-1.'
    '0}}],"universe":{"symbols":["AAPL","XYZ"],"source":"watchlist","reason":null},"as_of":"2024-06-03T14:31:'
    '35+00:00"}')

REST_PICK = (
    '{"id":"p1abc","symbol":"AAPL","setup":"orb15","setup_label":"15-min opening range","direction":"long","t'
    'rigger":"190.25","stop":"189.10","stop_basis":"range low","invalidation":"a close below 189.10","targets'
    '":["191.40","192.55","193.00"],"r_multiples":[1.0,2.0,2.39],"size":{"quantity":43,"one_r_dollars":"49.45'
    '","limited_by":"risk_budget","summary":"43 sh risks $49.45"},"size_note":null,"confidence":{"score":0.71'
    ',"base":0.66,"factors":[{"name":"trend","value":1.0,"weight":0.1,"explanation":"with VWAP 189.20"},{"nam'
    'e":"freshness","value":0.5,"weight":0.25,"explanation":"abé 30s"}],"adjustment":{"requested":0.08,"appli'
    'ed":0.05,"reason":"news","label":"LLM"}},"why":"Opening range breakout.","status":"forming","reason":"",'
    '"last":"190.00","as_of":"2024-06-03T14:31:00+00:00","freshness_s":35.5,"created_at":"2024-06-03T14:30:00'
    '+00:00","expires_at":"2024-06-03T15:30:00+00:00","triggered_at":null,"closed_at":null,"outcome":{"mfe_r"'
    ':0.0,"mae_r":0.0,"reached_1r":null,"result_r":null}}')

WS = (
    '{"type":"picks","items":[{"id":"p1abc","symbol":"AAPL","setup":"orb15","setup_label":"15-min opening ran'
    'ge","direction":"long","trigger":"190.25","stop":"189.10","stop_basis":"range low","invalidation":"a clo'
    'se below 189.10","targets":["191.40","192.55","193.00"],"r_multiples":[1.0,2.0,2.39],"size":null,"size_n'
    'ote":"sized when read (GET /api/v1/picks): the size follows the account","confidence":{"score":0.71,"bas'
    'e":0.66,"factors":[{"name":"trend","value":1.0,"weight":0.1,"explanation":"with VWAP 189.20"},{"name":"f'
    'reshness","value":0.5,"weight":0.25,"explanation":"abé 30s"}],"adjustment":{"requested":0.08,"applied":0'
    '.05,"reason":"news","label":"LLM"}},"why":"Opening range breakout.","status":"forming","reason":"","last'
    '":"190.00","as_of":"2024-06-03T14:31:00+00:00","freshness_s":35.5,"created_at":"2024-06-03T14:30:00+00:0'
    '0","expires_at":"2024-06-03T15:30:00+00:00","triggered_at":null,"closed_at":null,"outcome":{"mfe_r":0.0,'
    '"mae_r":0.0,"reached_1r":null,"result_r":null}},{"id":"p2def","symbol":"XYZ","setup":"vwap_reclaim","set'
    'up_label":"VWAP reclaim","direction":"short","trigger":"0.5123","stop":"0.5500","stop_basis":"swing high'
    '","invalidation":"above 0.55","targets":["0.4746"],"r_multiples":[1.0],"size":null,"size_note":"sized wh'
    'en read (GET /api/v1/picks): the size follows the account","confidence":{"score":0.4,"base":0.4,"factors'
    '":[],"adjustment":null},"why":"Short.","status":"invalidated","reason":"stopped at 0.5500","last":"0.560'
    '0","as_of":"2024-06-03T14:32:00+00:00","freshness_s":0.0,"created_at":"2024-06-03T14:30:00+00:00","expir'
    'es_at":"2024-06-03T15:30:00+00:00","triggered_at":"2024-06-03T14:31:30+00:00","closed_at":"2024-06-03T14'
    ':32:00+00:00","outcome":{"mfe_r":0.33,"mae_r":1.0,"reached_1r":false,"result_r":-1.0}}]}')

STORED = (
    '{"id": "p2def", "symbol": "XYZ", "setup": "vwap_reclaim", "setup_label": "VWAP reclaim", "direction": "s'
    'hort", "trigger": "0.5123", "stop": "0.5500", "stop_basis": "swing high", "invalidation": "above 0.55", '
    '"targets": ["0.4746"], "r_multiples": [1.0], "size": null, "size_note": "sized when read (GET /api/v1/pi'
    'cks): the size follows the account", "confidence": {"score": 0.4, "base": 0.4, "factors": [], "adjustmen'
    't": null}, "why": "Short.", "status": "invalidated", "reason": "stopped at 0.5500", "last": "0.5600", "a'
    's_of": "2024-06-03T14:32:00+00:00", "freshness_s": 0.0, "created_at": "2024-06-03T14:30:00+00:00", "expi'
    'res_at": "2024-06-03T15:30:00+00:00", "triggered_at": "2024-06-03T14:31:30+00:00", "closed_at": "2024-06'
    '-03T14:32:00+00:00", "outcome": {"mfe_r": 0.33, "mae_r": 1.0, "reached_1r": false, "result_r": -1.0}}')


def test_rest_page_and_one_pick_keep_their_bytes() -> None:
    forming, stopped = (p.view(NOW) for p in _picks())
    page = PicksPage([forming.sized(SIZE), stopped.sized(None, UNSIZED_NOTE)], Universe(("AAPL", "XYZ"), "watchlist"),
                     "2024-06-03T14:31:35+00:00")
    assert json_response(page).body.decode() == REST_PAGE
    assert json_response(forming.sized(SIZE)).body.decode() == REST_PICK


def test_ws_picks_event_keeps_its_bytes() -> None:
    assert encode_event(PicksEvent(items=[p.view(NOW) for p in _picks()])).decode() == WS


def test_a_stored_payload_reads_back_as_the_view_it_was_written_from() -> None:
    stopped = _picks()[1]
    row = pick_row(stopped)
    assert orjson.loads(orjson.dumps(row["payload"])) == orjson.loads(STORED)
    assert stored_view(orjson.loads(STORED)) == stopped.view(stopped.as_of_ms)
    assert row["status"] == "invalidated" and row["closed_at"] is not None


def test_a_card_reads_the_typed_pick() -> None:
    title, body = card_text(_picks()[0].view(NOW).sized(SIZE))
    assert title == "AAPL · 15-min opening range long · forming · confidence 0.71"
    assert "Size: 43 sh, 1R $49.45 (limited by risk budget)" in body
    assert "targets 191.40 (1R), 192.55 (2R), 193.00 (2.39R)" in body and "trend 1.00; freshness 0.50" in body
