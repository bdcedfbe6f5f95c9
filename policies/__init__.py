"""Policies that enforce the invariants of docs/01_invariants.md, selected by name.

``get(name)`` returns a fresh policy instance; the harness and the worker
processes select policies by name so a schedule file can name its policy.
"""

from __future__ import annotations

from runtime.errors import BadInput
from runtime.policy import Policy

_REGISTRY: dict[str, type[Policy]] = {"naive": Policy}


def register(cls: type[Policy]) -> type[Policy]:
    """Class decorator: make a policy selectable by its ``name``."""
    _REGISTRY[cls.name] = cls
    return cls


def names() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def get(name: str | Policy) -> Policy:
    """The policy called ``name`` (a ``Policy`` instance is returned as is)."""
    if isinstance(name, Policy):
        return name
    _load_builtin()
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise BadInput(f"unknown policy {name!r}; known policies: {', '.join(sorted(_REGISTRY))}") from None


def _load_builtin() -> None:
    # Import for the side effect of @register; kept lazy so runtime never imports policies.
    from . import budget, circuit_breaker, clock, commit, enqueue, reconcile  # noqa: F401


__all__ = ["Policy", "get", "names", "register"]
