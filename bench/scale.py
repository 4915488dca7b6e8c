"""Scale-out figures: hit throughput over 1, 2 and 3 replicas; hit latency on Cluster vs one Redis.

    python -m bench.scale            # full run (about 2 minutes), prints a markdown section
    python -m bench.scale --quick    # short runs, for a smoke check
    from bench import scale; section = scale.run(quick=True)

Every server is real and on loopback (tests/support/procs.py): one redis-server,
a Redis Cluster of 3 primaries and 3 replicas (tests/scale/topologies.py), and
the service under gunicorn (2 sync workers per replica, as `cachewatch serve`
runs it). Load comes from wrk, one process per replica, each bounded by `-d`.
CPU use is read from /proc/stat over each run, which is what says why the
throughput stops growing on a small machine.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import redis
import requests
from redis.cluster import RedisCluster

from tests.scale.topologies import RedisClusterServers
from tests.support.procs import RedisServer, ServiceProcess

HIT_PATH = "/api/areas/buy"
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


@dataclass
class WrkResult:
    requests_per_second: float
    p50: float
    p99: float
    non_2xx: int


def _seconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip()).groups()  # type: ignore[union-attr]
    return float(value) * _UNITS[unit]


def parse_wrk(output: str) -> WrkResult:
    """The figures of one `wrk --latency` run."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _seconds(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _seconds(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return WrkResult(rps, p50, p99, int(bad.group(1)) if bad else 0)


def wrk_many(urls: Sequence[str], seconds: int, connections: int) -> list[WrkResult]:
    """One wrk per URL, all at once; each one thread, `connections` connections."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    procs = [
        subprocess.Popen(
            [*command, url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for url in urls
    ]
    outputs = [p.communicate(timeout=seconds + 30)[0] for p in procs]
    return [parse_wrk(out) for out in outputs]


def _machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of every core since boot."""
    with open("/proc/stat") as stat:
        fields = [float(x) for x in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def group_cpu(pgids: set[int]) -> float:
    """CPU seconds used so far by the live processes of these process groups."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) in pgids:  # pgrp; utime and stime follow at 11 and 12
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class CpuUse:
    """Cores kept busy during a run: the whole machine, and each of our parts."""

    machine: float
    service: float
    redis: float
    wrk: float


def measure(
    fn: Callable[[], Any], service_groups: set[int], redis_groups: set[int]
) -> tuple[Any, CpuUse]:
    """Run `fn` (which runs wrk as child processes); return its result and the CPU it took."""
    busy0, total0 = _machine_cpu()
    svc0, red0, wrk0, t0 = (
        group_cpu(service_groups),
        group_cpu(redis_groups),
        _children_cpu(),
        time.monotonic(),
    )
    result = fn()
    busy1, total1 = _machine_cpu()
    svc1, red1, wrk1, t1 = (
        group_cpu(service_groups),
        group_cpu(redis_groups),
        _children_cpu(),
        time.monotonic(),
    )
    cores = os.cpu_count() or 1
    wall = max(t1 - t0, 1e-9)
    return result, CpuUse(
        machine=cores * (busy1 - busy0) / max(total1 - total0, 1e-9),
        service=(svc1 - svc0) / wall,
        redis=(red1 - red0) / wall,
        wrk=(wrk1 - wrk0) / wall,
    )


def _warm(service: ServiceProcess) -> None:
    for _ in range(2):
        requests.get(service.url + HIT_PATH, timeout=30).raise_for_status()
    assert requests.get(service.url + HIT_PATH, timeout=30).headers["X-Cache"] == "HIT"


def throughput(seconds: int, connections: int = 4) -> list[str]:
    """Hit throughput of 1, 2 and 3 replicas sharing one Redis."""
    rows = [
        "| replicas | hits/s | p50 | p99 | machine busy | service | redis | wrk | CPU ms per hit |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    with RedisServer() as redis_server:
        assert isinstance(redis_server, RedisServer) and redis_server.proc is not None
        services = [ServiceProcess(redis_server.url) for _ in range(3)]
        try:
            for s in services:
                s.start()
                _warm(s)
            groups = {s.proc.pid for s in services if s.proc is not None}
            for n in (1, 2, 3):
                urls = [s.url + HIT_PATH for s in services[:n]]
                run = functools.partial(wrk_many, urls, seconds, connections)
                results, cpu = measure(run, groups, {redis_server.proc.pid})
                assert all(r.non_2xx == 0 for r in results)
                total = sum(r.requests_per_second for r in results)
                p50 = statistics.median(r.p50 for r in results)
                p99 = max(r.p99 for r in results)
                per_hit = (cpu.service + cpu.redis) / total * 1e3
                rows.append(
                    f"| {n} | {total:,.0f} | {p50 * 1e3:.2f} ms | {p99 * 1e3:.2f} ms "
                    f"| {cpu.machine:.2f} | {cpu.service:.2f} | {cpu.redis:.2f} | {cpu.wrk:.2f} "
                    f"| {per_hit:.2f} |"
                )
        finally:
            for s in services:
                s.cleanup()
    return rows


def _client_gets(client: Any, key: str, count: int) -> float:
    """Median seconds of one GET round trip from redis-py."""
    times = []
    for _ in range(count):
        start = time.perf_counter()
        client.get(key)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cluster_latency(seconds: int, rounds: int, gets: int) -> list[str]:
    """Hit latency on a 3+3 Redis Cluster vs one redis-server, measured in one run."""
    with RedisServer() as single, RedisClusterServers() as cluster:
        assert isinstance(single, RedisServer)
        on_single = ServiceProcess(single.url, workers=1)
        on_cluster = ServiceProcess(
            single.url, workers=1, env={"REDIS_CLUSTER_NODES": cluster.nodes_env}
        )
        plain = redis.Redis(port=single.port)
        clustered = RedisCluster(host="127.0.0.1", port=cluster.servers[0].port)
        try:
            for s in (on_single, on_cluster):
                s.start()
                _warm(s)
            plain.set("bench:{k}", b"x" * 3000)
            clustered.set("bench:{k}", b"x" * 3000)
            p50: dict[str, list[float]] = {"single": [], "cluster": []}
            cpu: dict[str, list[float]] = {"single": [], "cluster": []}
            client: dict[str, list[float]] = {"single": [], "cluster": []}
            for _ in range(rounds):  # interleaved, so that machine noise hits both alike
                for name, s in (("single", on_single), ("cluster", on_cluster)):
                    assert s.proc is not None
                    run = functools.partial(wrk_many, [s.url + HIT_PATH], seconds, 1)
                    (result,), use = measure(run, {s.proc.pid}, set())
                    p50[name].append(result.p50)
                    cpu[name].append(use.service / result.requests_per_second)
                client["single"].append(_client_gets(plain, "bench:{k}", gets))
                client["cluster"].append(_client_gets(clustered, "bench:{k}", gets))
        finally:
            plain.close()
            clustered.close()
            on_single.cleanup()
            on_cluster.cleanup()

    def row(label: str, values: dict[str, list[float]], scale: float, unit: str) -> str:
        single, clustered = (statistics.median(values[k]) for k in ("single", "cluster"))
        ratios = [c / s for s, c in zip(values["single"], values["cluster"], strict=True)]
        return (
            f"| {label} | {single * scale:.3f} {unit} | {clustered * scale:.3f} {unit} "
            f"| {clustered / single:.2f} | {min(ratios):.2f} – {max(ratios):.2f} |"
        )

    return [
        f"| measure (median of {rounds} rounds) | single Redis | Cluster (3+3) "
        "| Cluster / single | per round |",
        "|---|---:|---:|---:|---:|",
        row("service hit latency, p50 (wrk, 1 connection)", p50, 1e3, "ms"),
        row("service CPU per hit", cpu, 1e3, "ms"),
        row("redis-py GET of 3 kB, median round trip", client, 1e3, "ms"),
    ]


def run(quick: bool) -> str:
    """The markdown section for docs/benchmarks.md."""
    seconds = 3 if quick else 10
    load = os.getloadavg()[0]
    started = time.monotonic()
    rows = throughput(seconds)
    latency = cluster_latency(2 if quick else 3, 2 if quick else 7, 500 if quick else 3000)
    lines = [
        "## Scale-out (bench/scale.py)",
        "",
        f"`python -m bench.scale{' --quick' if quick else ''}` on {os.cpu_count()} cores "
        f"(load average {load:.2f} before the run, {time.monotonic() - started:.0f} s).",
        "",
        f"Hit throughput: `GET {HIT_PATH}` (always a hit), one `wrk -t1 -c4 -d{seconds}s` per "
        "replica, all at once; every replica is `cachewatch serve` with 2 sync workers, "
        "all sharing one redis-server. CPU columns are cores kept busy (2.00 = the whole "
        "machine); `machine` counts every process, other tenants included; CPU ms per hit is "
        "service + redis CPU over hits served.",
        "",
        *rows,
        "",
        "Hit latency, Cluster vs a single Redis, in the same run: one service (1 worker) on "
        "each, one wrk connection at a time, rounds interleaved; the last column is the "
        "spread of the per-round ratios (the machine's noise):",
        "",
        *latency,
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs")
    args = parser.parse_args(argv)
    print(run(args.quick))
    return 0


if __name__ == "__main__":
    sys.exit(main())
