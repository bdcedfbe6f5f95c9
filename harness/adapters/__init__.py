"""Adapters that put third-party SQLite queues under the harness (black-box mode, ``harness.blackbox``)."""
