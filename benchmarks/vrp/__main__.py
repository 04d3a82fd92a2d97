"""``python -m benchmarks.vrp DIR --time-limit 10 [--solvers ...] [--jobs N] [--sample K]``."""

import sys

from benchmarks.vrp.runner import main

if __name__ == "__main__":
    sys.exit(main())
