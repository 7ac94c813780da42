"""Stored picks on SQLite and PostgreSQL: upsert keeps the newest version, the list ranks active picks, the
scorecard reads every stored pick."""

from __future__ import annotations

import itertools

from core.db.repositories import PicksRepository
from core.db.session import Database
from core.domain.picks import Context, Pick, on_range
from core.domain.picks_scanner import Scanner
from core.services.picks import pick_row
from tests.unit.picks_series import minute_bars
from tests.unit.test_setups import RANGE


def _picks() -> list[Pick]:
    ids = itertools.count(1)
    scanner = Scanner(lambda: f"p{next(ids)}", lambda _s: Context(now_ms=0))
    for bar in minute_bars(RANGE):
        scanner.on_bar("AAA", bar)
    return [scanner.settle(p) for p in scanner.ranked(limit=50)]


async def test_upsert_list_and_score(db: Database) -> None:
    picks = _picks()
    orb = next(p for p in picks if p.setup == "orb5")
    async with db.uow() as session:
        await PicksRepository(session).upsert([pick_row(p) for p in picks])
    old = pick_row(orb)
    on_range(orb, 101.5, 101.5, orb.as_of_ms + 1)
    on_range(orb, 98.0, 98.0, orb.as_of_ms + 2)
    async with db.uow() as session:
        await PicksRepository(session).upsert([pick_row(orb)])
        await PicksRepository(session).upsert([old])  # an older version never overwrites a newer one
    async with db.read() as session:
        repo = PicksRepository(session)
        stored = await repo.get(orb.id)
        active = await repo.page(limit=50)
        every = await repo.page(limit=50, active_only=False, setup="orb5", symbol="AAA")
        scored = await repo.scored()
    assert stored is not None and stored["status"] == "invalidated"
    assert orb.id not in {p["id"] for p in active} and len(active) == len(picks) - 1
    assert [p["id"] for p in every] == [orb.id]
    row = next(r for r in scored if r.setup == "orb5")
    assert (row.triggered, row.reached_1r, row.result_r) == (True, False, -1.0)
    scores = [p["confidence"]["score"] for p in active]
    assert scores == sorted(scores, reverse=True)
