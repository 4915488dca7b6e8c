"""`python -m bench`: run the benchmarks, write the report.

python -m bench                        every section; writes docs/benchmarks.md
python -m bench --quick                short rounds (a smoke test); writes .state/bench/
python -m bench --only throughput --only overhead
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

from bench.context import Context
from bench.report import environment, render
from bench.sections import SECTIONS, runner
from bench.servers import REPO


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    parser.add_argument(
        "--only", action="append", choices=list(SECTIONS), metavar="NAME",
        help=f"run only this section (repeatable): {', '.join(SECTIONS)}",
    )  # fmt: skip
    parser.add_argument(
        "--output", type=Path,
        help="where to write the markdown (default: docs/benchmarks.md for a full run of "
        "every section, else .state/bench/benchmarks-partial.md)",
    )  # fmt: skip
    parser.add_argument("--state", type=Path, default=REPO / ".state" / "bench")
    parser.add_argument(
        "--listings", type=int, default=1_000_000, help="listings in the seeded database"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    names = args.only or list(SECTIONS)
    complete = not args.quick and names == list(SECTIONS)
    output = args.output or (
        REPO / "docs" / "benchmarks.md" if complete else args.state / "benchmarks-partial.md"
    )
    env = environment(argv)
    bodies: dict[str, str] = {}
    failed = 0
    with Context.open(quick=args.quick, state=args.state, listings=args.listings) as ctx:
        for name in names:
            start = time.monotonic()
            ctx.note(f"== {name}")
            try:
                bodies[name] = runner(name)(ctx)
            except Exception:  # noqa: BLE001 - one failed section must not lose the others
                failed += 1
                bodies[name] = "**This section failed:**\n\n```\n" + traceback.format_exc() + "```"
                traceback.print_exc()
            ctx.note(f"== {name}: {time.monotonic() - start:.0f} s")
    load_end = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    mode = "quick" if args.quick else "full"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render(env, bodies, mode, load_end))
    print(f"wrote {output}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
