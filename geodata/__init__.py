"""Road networks, travel times, snapping, matrices and route geometry.

This package knows nothing of the planner or the web UI: it takes road lines and points and
returns graphs, matrices and leg geometry.
"""
