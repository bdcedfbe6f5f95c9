"""Deterministic fault injectors (schedule steps). See ``faults.injectors``."""

from .injectors import clock_jump, failing_job, kill_at, pause_at, poison_job, resume, slow_effect

__all__ = ["clock_jump", "failing_job", "kill_at", "pause_at", "poison_job", "resume", "slow_effect"]
