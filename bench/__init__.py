"""Benchmark of the public JSON API (not a test): `python -m bench.run`, see docs/benchmarks.md."""
