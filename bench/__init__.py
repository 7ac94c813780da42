"""Benchmarks: each `bench/bench_*.py` has a `main()` that prints its figures and its ratio to a named baseline."""
