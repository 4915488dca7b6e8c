"""wrk (Debian's package) on loopback, bounded in time, its summary read as JSON.

    result = run(url, paths=["/api/areas/buy"], connections=20, seconds=5)
    result.rps, result.p99_ms, result.requests

A small Lua script rotates through `paths` and prints the summary (counts,
errors, latency percentiles in microseconds) as one JSON line from `done()`.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

_SCRIPT = """
local paths = {%(paths)s}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nBENCH_JSON {"requests": %%d, "duration_us": %%d, "bytes": %%d, ' ..
    '"connect": %%d, "read": %%d, "write": %%d, "status": %%d, "timeout": %%d, ' ..
    '"p50": %%d, "p90": %%d, "p95": %%d, "p99": %%d, "max": %%d, "mean": %%f}\\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean))
end
"""


@dataclasses.dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    errors: int
    non2xx: int
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _lua(paths: Sequence[str]) -> str:
    quoted = ", ".join(json.dumps(p) for p in paths)
    return _SCRIPT % {"paths": quoted}


def run(
    base_url: str,
    paths: Sequence[str],
    connections: int,
    seconds: float,
    threads: int = 1,
    timeout_s: float = 5.0,
) -> WrkResult:
    """Run wrk against `base_url` for `seconds`; raise if wrk fails or sent nothing."""
    if not base_url.startswith("http://127.0.0.1:"):
        raise ValueError("benchmarks only send traffic to 127.0.0.1")
    threads = max(1, min(threads, connections))
    with tempfile.TemporaryDirectory(prefix="cachewatch-wrk-") as folder:
        script = Path(folder) / "bench.lua"
        script.write_text(_lua(paths))
        duration = max(1, round(seconds))
        argv = [f"-t{threads}", f"-c{connections}", f"-d{duration}s", f"--timeout={timeout_s:g}s"]
        out = subprocess.run(
            ["wrk", *argv, "-s", str(script), base_url + paths[0]],
            capture_output=True,
            text=True,
            timeout=duration + 60,
            check=False,
        )
    line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    errors = data["connect"] + data["read"] + data["write"] + data["timeout"]
    return WrkResult(
        requests=int(data["requests"]),
        seconds=data["duration_us"] / 1e6,
        errors=int(errors),
        non2xx=int(data["status"]),
        p50_ms=data["p50"] / 1000,
        p90_ms=data["p90"] / 1000,
        p95_ms=data["p95"] / 1000,
        p99_ms=data["p99"] / 1000,
        max_ms=data["max"] / 1000,
    )
