"""The traffic the dashboard tests backfill: a warm-up with an incident, then steady state.

Timeline, relative to `t0` (a multiple of 15 s near the session's start):

    t0-8h ........ t0-4h: warm-up, the hit ratio climbing hour by hour
         t0-6h .. t0-5h30: incident: Redis node B down, `get` errors, circuit open
    t0-4h .......... t0: steady state, the figures below (load varies, ratios don't)

Steady state per step and instance, at load factor 1 (the hand computations in
the tests start from these):

    endpoint        hits (bucket: count)         misses (bucket)            bypass
    areas           8 (≤1 ms: 4, ≤2.5 ms: 4)     2 (≤50 ms), 1 cold 1 exp.  -
    property_types  9 (≤2.5 ms: 9)               1 (≤100 ms), cold          -
    valuation       6 (≤5 ms: 6)                 2 (≤250 ms), 1 cold 1 exp. 1 uncacheable (≤250 ms)

Redis: node A 96 MiB used of 256 MiB, 1200 keys, 3 evicted and 5 expired per step;
node B 32 MiB of 256 MiB, 800 keys, 1 evicted and 2 expired per step.
"""

from __future__ import annotations

import numpy as np

from tests.dashboard.synthetic import MIB, EndpointLoad, NodeState, Phase, Scenario

HOUR = 3600
NODE_A, NODE_B = "10.0.0.1:6379", "10.0.0.2:6379"

STEADY = {
    "areas": EndpointLoad(
        hit_latency={0.001: 4, 0.0025: 4}, miss_latency={0.05: 2},
        local_share=0.25, expired_share=0.5, ttl=3600, rejected=0.5,
    ),
    "property_types": EndpointLoad(hit_latency={0.0025: 9}, miss_latency={0.1: 1}, ttl=3600),
    "valuation": EndpointLoad(
        hit_latency={0.005: 6}, miss_latency={0.25: 2}, bypass_latency={0.25: 1},
        expired_share=0.5, ttl=600,
    ),
}  # fmt: skip
STEADY_NODES = {
    NODE_A: NodeState(used_bytes=96 * MIB, keys=1200, evicted_per_step=3, expired_per_step=5),
    NODE_B: NodeState(used_bytes=32 * MIB, keys=800, evicted_per_step=1, expired_per_step=2),
}


def wave(t: np.ndarray) -> np.ndarray:
    """A load factor between 1 and 2 in quarter steps (exact in binary), period 2 h."""
    return 1.0 + np.round(2 * (1 + np.sin(2 * np.pi * t / (2 * HOUR)))) / 4


def _warmup(hour: int) -> dict[str, EndpointLoad]:
    """Hour 0..3 of the warm-up: fewer hits, more (slower) misses."""
    cold = 4 - hour  # extra misses per step
    return {
        name: EndpointLoad(
            hit_latency={b: c * (hour + 1) / 4 for b, c in e.hit_latency.items()},
            miss_latency={**{b: c for b, c in e.miss_latency.items()},
                          0.25: e.miss_latency.get(0.25, 0) + cold},
            bypass_latency=e.bypass_latency, local_share=e.local_share,
            expired_share=e.expired_share, ttl=e.ttl, rejected=e.rejected,
        )
        for name, e in STEADY.items()
    }  # fmt: skip


def rollout(t0: int) -> Scenario:
    phases = []
    for hour in range(4):
        start = t0 - (8 - hour) * HOUR
        eps, nodes, circuit = _warmup(hour), dict(STEADY_NODES), 0.0
        if hour == 2:  # t0-6h .. t0-5h: the first half hour is the incident
            mid = start + HOUR // 2
            incident = {
                **eps,
                "areas": EndpointLoad(
                    hit_latency={0.001: 1}, miss_latency={0.05: 1},
                    bypass_latency={0.1: 6}, bypass_reason="circuit_open",
                    errors={"get": 2}, ttl=3600,
                ),
            }  # fmt: skip
            down = {**nodes, NODE_B: NodeState(up=0, used_bytes=0, keys=0)}
            phases.append(Phase(start, mid, incident, down, circuit_open=1.0, load=wave))
            phases.append(Phase(mid, start + HOUR, eps, nodes, circuit, load=wave))
            continue
        phases.append(Phase(start, start + HOUR, eps, nodes, circuit, load=wave))
    phases.append(Phase(t0 - 4 * HOUR, t0 + 15, STEADY, STEADY_NODES, load=wave))
    return Scenario(phases)
