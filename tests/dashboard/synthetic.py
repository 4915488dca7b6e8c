"""Known cachewatch metrics, written as OpenMetrics and backfilled into a Prometheus data dir.

    scenario = Scenario(phases=[Phase(start, end, endpoints={"areas": EndpointLoad(...)})])
    backfill(scenario, data_dir)        # promtool tsdb create-blocks-from openmetrics
    PrometheusServer(...)               # then started on that data dir

Every series is sampled every `step` seconds, as a scrape of the service would
be, with the labels docs/metrics.md names and `job`/`instance` as a scrape adds.
Counters start at 0 and grow by each phase's per-step increments times the
phase's load factor, so ratios within a phase are exact whatever the load.
"""

from __future__ import annotations

import dataclasses
import math
import subprocess
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import numpy as np

#: The service's request latency buckets (service/metrics.py), seconds.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                   5.0, 10.0)  # fmt: skip
MIB = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class EndpointLoad:
    """One cached endpoint's traffic per step at load factor 1.

    The *_latency maps say how many observations per step fall in the bucket
    whose upper bound is the key (e.g. {0.001: 4} = four in (0.0005, 0.001]).
    """

    hit_latency: Mapping[float, float]
    miss_latency: Mapping[float, float] = dataclasses.field(default_factory=dict)
    bypass_latency: Mapping[float, float] = dataclasses.field(default_factory=dict)
    local_share: float = 0.0  # the part of hits served by the local tier
    expired_share: float = 0.0  # the part of misses that were expired (else cold)
    bypass_reason: str = "uncacheable"
    errors: Mapping[str, float] = dataclasses.field(default_factory=dict)  # operation: per step
    rejected: float = 0.0  # 4xx per step
    ttl: float = 3600.0

    @property
    def hits(self) -> float:
        return sum(self.hit_latency.values())

    @property
    def misses(self) -> float:
        return sum(self.miss_latency.values())

    @property
    def bypasses(self) -> float:
        return sum(self.bypass_latency.values())


@dataclasses.dataclass(frozen=True)
class NodeState:
    up: float = 1.0
    used_bytes: float = 64 * MIB
    max_bytes: float = 256 * MIB
    keys: float = 1000
    evicted_per_step: float = 0.0
    expired_per_step: float = 0.0


@dataclasses.dataclass(frozen=True)
class Phase:
    """[start, end) in epoch seconds; `load(t)` scales every increment (not gauges)."""

    start: float
    end: float
    endpoints: Mapping[str, EndpointLoad]
    nodes: Mapping[str, NodeState]
    circuit_open: float = 0.0
    load: Callable[[np.ndarray], np.ndarray] = lambda t: np.ones_like(t)


@dataclasses.dataclass(frozen=True)
class Scenario:
    phases: list[Phase]
    step: int = 15
    instances: tuple[str, ...] = ("127.0.0.1:8001", "127.0.0.1:8002")
    job: str = "cachewatch"

    @property
    def start(self) -> float:
        return min(p.start for p in self.phases)

    @property
    def end(self) -> float:
        return max(p.end for p in self.phases)

    def times(self) -> np.ndarray:
        return np.arange(self.start, self.end, self.step, dtype=np.int64)

    def series(self) -> dict[str, dict[str, np.ndarray]]:
        """{sample name: {label text: values}} for one instance (before job/instance labels)."""
        ts = self.times()
        n = len(ts)
        inc: dict[str, dict[str, np.ndarray]] = {}
        gauge: dict[str, dict[str, np.ndarray]] = {}

        def add(table: dict[str, dict[str, np.ndarray]], name: str, labels: str,
                mask: np.ndarray, values: np.ndarray | float) -> None:  # fmt: skip
            row = table.setdefault(name, {}).setdefault(labels, np.zeros(n))
            row[mask] += values

        for phase in self.phases:
            mask = (ts >= phase.start) & (ts < phase.end)
            # the increment reported at t happened during the step before t
            load = phase.load(ts[mask].astype(float))
            for ep, e in phase.endpoints.items():
                hits, misses = e.hits * load, e.misses * load
                add(inc, "cachewatch_cache_hits_total", f'endpoint="{ep}",tier="redis"',
                    mask, hits * (1 - e.local_share))  # fmt: skip
                add(inc, "cachewatch_cache_hits_total", f'endpoint="{ep}",tier="local"',
                    mask, hits * e.local_share)  # fmt: skip
                add(inc, "cachewatch_cache_misses_total", f'endpoint="{ep}",reason="cold"',
                    mask, misses * (1 - e.expired_share))  # fmt: skip
                add(inc, "cachewatch_cache_misses_total", f'endpoint="{ep}",reason="expired"',
                    mask, misses * e.expired_share)  # fmt: skip
                for reason in ("disabled", "circuit_open", "redis_error", "uncacheable"):
                    share = e.bypasses if reason == e.bypass_reason else 0.0
                    add(inc, "cachewatch_cache_bypass_total", f'endpoint="{ep}",reason="{reason}"',
                        mask, share * load)  # fmt: skip
                for op in ("get", "set", "lock", "delete", "serialize", "deserialize", "sample"):
                    errors = e.errors.get(op, 0.0) * load
                    add(inc, "cachewatch_cache_errors_total",
                        f'endpoint="{ep}",operation="{op}"', mask, errors)  # fmt: skip
                results = [("hit", "2xx", e.hit_latency), ("miss", "2xx", e.miss_latency),
                           ("bypass", "2xx", e.bypass_latency),
                           ("none", "4xx", {0.001: e.rejected})]  # fmt: skip
                for cache, status, latency in results:
                    labels = f'endpoint="{ep}",cache="{cache}",status="{status}"'
                    _histogram(inc, add, "cachewatch_http_request_duration_seconds", labels,
                               latency, mask, load)  # fmt: skip
                computed = {**e.miss_latency}
                for bound, count in e.bypass_latency.items():
                    computed[bound] = computed.get(bound, 0.0) + count
                _histogram(inc, add, "cachewatch_backend_duration_seconds", f'endpoint="{ep}"',
                           computed, mask, load)  # fmt: skip
                add(gauge, "cachewatch_cache_ttl_seconds", f'endpoint="{ep}"', mask, e.ttl)
            add(gauge, "cachewatch_cache_enabled", "", mask, 1.0)
            add(gauge, "cachewatch_cache_circuit_open", "", mask, phase.circuit_open)
            for node, s in phase.nodes.items():
                labels = f'node="{node}"'
                add(gauge, "cachewatch_redis_up", labels, mask, s.up)
                add(gauge, "cachewatch_redis_memory_used_bytes", labels, mask, s.used_bytes)
                add(gauge, "cachewatch_redis_memory_max_bytes", labels, mask, s.max_bytes)
                add(gauge, "cachewatch_redis_keys", labels, mask, s.keys)
                add(inc, "cachewatch_redis_evicted_keys_total", labels, mask, s.evicted_per_step)
                add(inc, "cachewatch_redis_expired_keys_total", labels, mask, s.expired_per_step)
        out = {name: {k: np.cumsum(v) for k, v in rows.items()} for name, rows in inc.items()}
        for name, rows in gauge.items():
            out[name] = rows
        return out


def _histogram(inc: dict, add: Callable, name: str, labels: str, latency: Mapping[float, float],
               mask: np.ndarray, load: np.ndarray) -> None:  # fmt: skip
    """Cumulative buckets, count and sum of `latency` (observations per step per bucket)."""
    sep = "," if labels else ""
    total = sum(latency.values())
    for bound in (*LATENCY_BUCKETS, math.inf):
        le = "+Inf" if bound == math.inf else repr(bound)
        below = sum(c for b, c in latency.items() if b <= bound)
        add(inc, f"{name}_bucket", f'{labels}{sep}le="{le}"', mask, below * load)
    add(inc, f"{name}_count", labels, mask, total * load)
    midpoints = {b: (b + _lower(b)) / 2 for b in latency}
    add(inc, f"{name}_sum", labels, mask, sum(c * midpoints[b] for b, c in latency.items()) * load)


def _lower(bound: float) -> float:
    i = LATENCY_BUCKETS.index(bound)
    return LATENCY_BUCKETS[i - 1] if i else 0.0


def openmetrics(scenario: Scenario) -> Iterator[str]:
    """The scenario as OpenMetrics text, in chunks; each sample name's series kept together."""
    ts = scenario.times()
    stamps = [str(t) for t in ts.tolist()]
    for name, rows in scenario.series().items():
        for labels, values in rows.items():
            for instance in scenario.instances:
                extra = f'instance="{instance}",job="{scenario.job}"'
                head = f"{name}{{{labels},{extra}}} " if labels else f"{name}{{{extra}}} "
                yield "".join(
                    f"{head}{v!r} {t}\n" for v, t in zip(values.tolist(), stamps, strict=True)
                )
    yield "# EOF\n"


def backfill(scenario: Scenario, data_dir: Path, max_block: str = "24h") -> None:
    """Write the scenario into Prometheus TSDB blocks under `data_dir`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    source = data_dir.parent / "backfill.om"
    with source.open("w") as out:
        for chunk in openmetrics(scenario):
            out.write(chunk)
    try:
        subprocess.run(
            ["promtool", "tsdb", "create-blocks-from", "openmetrics",
             f"--max-block-duration={max_block}", str(source), str(data_dir)],
            check=True, capture_output=True, timeout=1800,
        )  # fmt: skip
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"promtool failed: {exc.stderr.decode()[-2000:]}") from None
    finally:
        source.unlink(missing_ok=True)
