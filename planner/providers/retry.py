"""Retrying provider calls: transient failures back off and try again, the rest fail at once.

The SDKs' own retries are switched off (max_retries=0) so this is the only layer that
retries. A server's Retry-After is honoured (capped); otherwise the wait grows
exponentially with jitter so that concurrent jobs do not retry in lockstep. Each
retry is logged with the job it belongs to.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from planner.providers.base import TransientError

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    initial: float = 1.0  # first backoff, seconds
    max_wait: float = 60.0


class GaveUp(TransientError):
    """A transient failure that lasted through every attempt; carries how many were made."""

    def __init__(self, message: str, attempts: int) -> None:
        super().__init__(message)
        self.attempts = attempts


def _wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    backoff = wait_exponential_jitter(multiplier=policy.initial, max=policy.max_wait, jitter=policy.initial)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        after = getattr(exc, "retry_after", None)
        return min(after, policy.max_wait) if after is not None else backoff(state)

    return wait


def call_with_retries(call: Callable[[], T], policy: RetryPolicy, label: str) -> tuple[T, int]:
    """Run `call`, retrying transient errors; returns its result and the attempts it took.

    After the last attempt the final error is raised as `GaveUp` (with the attempt count).
    """

    def announce(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0
        log.warning("%s: retrying in %.1fs after attempt %d: %s", label, wait, state.attempt_number, exc)

    retrying = Retrying(
        retry=retry_if_exception_type(TransientError),
        stop=stop_after_attempt(policy.attempts),
        wait=_wait(policy),
        before_sleep=announce,
        reraise=True,
    )
    attempt_number = 0
    try:
        for attempt in retrying:
            attempt_number = attempt.retry_state.attempt_number
            with attempt:
                result = call()
            if not attempt.retry_state.outcome or not attempt.retry_state.outcome.failed:
                return result, attempt_number
    except TransientError as exc:
        tries = f"{attempt_number} attempt" + ("s" if attempt_number != 1 else "")
        raise GaveUp(f"{exc} (gave up after {tries})", attempt_number) from None
    raise AssertionError("unreachable: tenacity either returns or re-raises")
