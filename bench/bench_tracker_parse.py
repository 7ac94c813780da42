"""Tradier orders parse: 100 open orders (JSON bytes -> BrokerOrder values), p95 vs the 20 ms tracker budget."""

from __future__ import annotations

import json
import statistics
import time

from core.adapters.tradier import wire

BUDGET_MS = 20.0
ORDERS = 100
ROUNDS = 500


def _response(count: int) -> bytes:
    orders = []
    for n in range(count):
        order = {"id": 228175 + n, "type": "limit", "symbol": f"SYM{n % 40}", "side": "buy" if n % 2 else "sell",
                 "quantity": 10.00000000, "status": "open" if n % 3 else "partially_filled", "duration": "day",
                 "price": 185.25 + n / 100, "avg_fill_price": 0.00000000, "exec_quantity": 0.00000000,
                 "last_fill_price": 0.00000000, "last_fill_quantity": 0.00000000, "remaining_quantity": 10.0,
                 "create_date": "2024-06-03T14:30:11.123Z", "transaction_date": "2024-06-03T14:30:11.456Z",
                 "class": "equity", "tag": f"0f9c2b7e-{n:04d}"}
        if n % 10 == 0:
            order.update({"class": "option", "option_symbol": "SPY240621C00500000", "side": "buy_to_open"})
        orders.append(order)
    return json.dumps({"orders": {"order": orders}}).encode()


def main() -> bool:
    body = _response(ORDERS)
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        orders = wire.parse_orders(wire.decode(body))
        samples.append((time.perf_counter() - started) * 1000)
    assert len(orders) == ORDERS
    p95 = statistics.quantiles(samples, n=20)[-1]
    print(f"parse {ORDERS} orders ({len(body)} bytes): p50 {statistics.median(samples):.3f} ms, "
          f"p95 {p95:.3f} ms over {ROUNDS} rounds")
    print(f"ratio vs {BUDGET_MS:.0f} ms tracker-cycle budget (excluding I/O): {p95 / BUDGET_MS:.3f} "
          f"({'within' if p95 < BUDGET_MS else 'OVER'} budget)")
    return p95 < BUDGET_MS


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
