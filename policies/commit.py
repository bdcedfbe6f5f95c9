"""Commit policies. Filled in by FM_001 (the ``fenced`` policy)."""
