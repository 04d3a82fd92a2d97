"""Real-scenario benchmark set (issue 12): province-scale trips over several days on real
roads, solved by the product and by a plain OR-Tools baseline, against best-known plans.

    python -m benchmarks.scenarios build                      # the Tuyên Quang dataset
    python -m benchmarks.scenarios benchmarks/scenarios/instances --time-limit 60 [--with-10x]
    python -m benchmarks.scenarios benchmarks/scenarios/instances --time-limit 60 \\
        --make-best-known                                     # 10x, 3 seeds + the baseline

See :mod:`benchmarks.scenarios.runner`.
"""
