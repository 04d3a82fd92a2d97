"""Flask web UI (placeholder until written)."""
