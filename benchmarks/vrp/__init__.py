"""VRP benchmarks: the product's routing model, plain OR-Tools and PyVRP on Solomon, CVRPLIB X,
Li & Lim and Cordeau instances, and the product's season solver on the Cordeau periodic VRP
(beside its published 1995–96 solutions), every solution checked independently.

    python -m benchmarks.vrp ../shared/benchmarks/solomon --time-limit 10 --jobs 2 --sample 10
    python -m benchmarks.vrp benchmarks/vrp/data/pvrp_cordeau --solvers season,published \
        --time-limit 60 --jobs 1
"""
