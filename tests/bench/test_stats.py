"""The statistics the report is made of, and the wrk runner's refusal to leave loopback."""

from __future__ import annotations

import math

import pytest

from bench import wrk
from bench.stats import median, percentile, spread, verdict


def test_percentiles_interpolate_between_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == median(values) == 2.5
    assert percentile(values, 95) == pytest.approx(3.85)
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))


def test_spread_and_verdict() -> None:
    assert spread([0.91, 1.2, 1.05]) == "0.91–1.20"
    assert spread([]) == "–"
    assert verdict(True) == "met"
    assert "missed" in verdict(False)


def test_wrk_only_targets_loopback() -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        wrk.run("http://example.com:80", ["/"], connections=1, seconds=1)


def test_the_lua_script_rotates_through_every_path() -> None:
    script = wrk._lua(["/a", "/b?x=1&y=2"])
    assert '"/a", "/b?x=1&y=2"' in script
    assert "BENCH_JSON" in script
