"""VRP benchmarks: the product's routing model, plain OR-Tools and PyVRP on Solomon, CVRPLIB X,
Li & Lim and Cordeau instances, every solution checked independently.

    python -m benchmarks.vrp ../shared/benchmarks/solomon --time-limit 10 --jobs 2 --sample 10
"""
