from __future__ import annotations

import pytest

from dashboard.view import RANGES, TimeWindow, ViewState, choose_step, promql_duration


@pytest.mark.parametrize(
    ("seconds", "step"),
    [(600, 15), (3600, 15), (6 * 3600, 120), (24 * 3600, 300), (7 * 86400, 3600), (10**8, 86400)],
)
def test_the_step_is_nice_at_least_15s_and_gives_at_most_300_points(
    seconds: int, step: int
) -> None:
    assert choose_step(seconds) == step
    assert step >= 15
    assert seconds / step <= 300 or step == 86400


def test_promql_durations_use_the_largest_whole_unit() -> None:
    assert [promql_duration(s) for s in (15, 60, 300, 3600, 86400, 604800, 5400)] == [
        "15s", "1m", "5m", "1h", "1d", "7d", "90m",
    ]  # fmt: skip


def test_a_window_ends_at_the_given_time() -> None:
    window = TimeWindow.ending(1_000_000, "6h")
    assert (window.start, window.end, window.seconds) == (1_000_000 - 21600, 1_000_000, 21600)
    assert (window.step, window.rate_window, window.duration) == (120, "2m", "6h")
    assert TimeWindow.ending(0, "1h").rate_window == "1m"  # never under four 15 s scrapes


@pytest.mark.parametrize(
    ("search", "range_", "endpoint"),
    [
        ("", "24h", None),
        (None, "24h", None),
        ("?range=7d", "7d", None),
        ("?range=1h&endpoint=valuation", "1h", "valuation"),
        ("?range=2w&endpoint=areas", "24h", "areas"),
        ('?endpoint=a"b', "24h", None),  # never into PromQL
        ("?endpoint=areas|valuation", "24h", None),
    ],
)
def test_state_from_the_query_string(search: str | None, range_: str, endpoint: str | None) -> None:
    state = ViewState.from_search(search)
    assert (state.range, state.endpoint) == (range_, endpoint)


def test_state_round_trips_through_the_url() -> None:
    for range_ in RANGES:
        for endpoint in (None, "property_types"):
            state = ViewState(range_, endpoint)
            assert ViewState.from_search(state.to_search()) == state
