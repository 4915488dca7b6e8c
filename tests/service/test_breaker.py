from __future__ import annotations

from service.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_consecutive_failures_and_refuses_calls() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=3, reset_seconds=5, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.failure()
    assert breaker.state == CLOSED
    breaker.failure()
    assert breaker.state == OPEN
    assert not breaker.allow()


def test_a_success_resets_the_count() -> None:
    breaker = CircuitBreaker(failures=2, reset_seconds=5, clock=Clock())
    breaker.failure()
    breaker.success()
    breaker.failure()
    assert breaker.state == CLOSED


def test_half_open_lets_one_trial_through_then_closes_or_reopens() -> None:
    clock = Clock()
    changes: list[str] = []
    breaker = CircuitBreaker(failures=1, reset_seconds=5, clock=clock, on_change=changes.append)
    breaker.failure()
    clock.now = 5.0
    assert breaker.allow()
    assert breaker.state == HALF_OPEN
    assert not breaker.allow()  # only one trial at a time
    breaker.failure()
    assert breaker.state == OPEN
    assert not breaker.allow()
    clock.now = 10.0
    assert breaker.allow()
    breaker.success()
    assert breaker.state == CLOSED
    assert changes == [OPEN, HALF_OPEN, OPEN, HALF_OPEN, CLOSED]
