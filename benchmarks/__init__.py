"""Runnable benchmarks (kept out of CI): `python -m benchmarks.foundation`."""
