"""Maintainers' tools: research and data-preparation scripts kept out of the runtime
packages (nothing in ``geodata``, ``planner``, ``render``, ``cli`` or ``webui`` imports them).
Each runs as ``python -m tools.NAME`` from the project root."""
