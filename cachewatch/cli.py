"""The `cachewatch` command.

    cachewatch serve --port 8000       the cached API under gunicorn
    cachewatch seed-db                 create and fill the database
    cachewatch load --duration 30      traffic for demos, tests and benchmarks
    cachewatch dashboard --port 8050   the Dash app
    cachewatch ttl-review / ttl-export the weekly TTL review
    cachewatch up                      the whole stack on this machine

Each subcommand lives with the part it runs; this module only dispatches, and
imports a part only when its command is used.
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: command: (module, help). The module has `add_arguments(parser)` and `run(args) -> int`.
COMMANDS = {
    "serve": ("service.commands", "run the cached property API under gunicorn"),
    "seed-db": ("service.commands", "create and fill the property database"),
    "load": ("loadgen.cli", "send realistic traffic to the service"),
    "dashboard": ("dashboard.cli", "run the Dash dashboard"),
    "ttl-review": ("ttlreview.cli", "what-if TTL curves and recommendations"),
    "ttl-export": ("ttlreview.cli", "write the sampled access events as CSV"),
    "up": ("cachewatch.stack", "run the whole stack on this machine"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cachewatch", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    argv = sys.argv[1:] if argv is None else argv
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, (module_name, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text)
        command.set_defaults(module=module_name)
        if name == chosen:
            module = importlib.import_module(module_name)
            module.add_arguments(command, name)
    args = parser.parse_args(argv)
    module = importlib.import_module(args.module)
    return int(module.run(args, args.command) or 0)


if __name__ == "__main__":
    sys.exit(main())
