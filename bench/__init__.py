"""cachewatch's benchmarks: `make bench` (`python -m bench`) writes docs/benchmarks.md.

    python -m bench                       every section, the real run (a quarter of an hour)
    python -m bench --quick               fewer, shorter rounds: a smoke test
    python -m bench --only throughput     one section (repeat --only for more)

Servers start on free loopback ports; wrk is bounded in time; every comparison
is a ratio of runs interleaved in one session, reported as the median of its rounds.
"""
