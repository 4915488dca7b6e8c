"""Every PromQL expression the Grafana files hold, made runnable against a plain Prometheus.

    for where, expr in dashboard_expressions(board):
        prom.query(substitute(expr, {"__rate_interval": "1m", "endpoint": ".*", ...}))

Grafana expands its variables before a query reaches Prometheus; `substitute` does the
same with given values, and `label_values_query` turns a variable's label_values(...)
into the series query Grafana's Prometheus datasource runs. `counters_without_rate`
finds counters read raw, which a panel must never do.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

Json = dict[str, Any]

COUNTER_SUFFIXES = ("_total", "_count", "_bucket", "_sum")
RATE_FUNCTIONS = ("rate", "irate", "increase")
KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right",
    "and", "or", "unless", "offset", "bool", "atan2", "inf", "nan",
}  # fmt: skip

_VARIABLE = re.compile(r"\$\{(\w+)(?::[\w]+)?\}|\$(\w+)|\[\[(\w+)\]\]")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_COMMENT = re.compile(r"#[^\n]*")
_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_LABEL_VALUES = re.compile(
    r"^\s*label_values\(\s*(?:(?P<selector>.+?)\s*,\s*)?(?P<label>\w+)\s*\)\s*$", re.S
)


def all_panels(dashboard: Json) -> Iterator[Json]:
    """Every panel, those inside collapsed rows included."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def dashboard_expressions(dashboard: Json) -> Iterator[tuple[str, str]]:
    """(where, expr) for every panel target, `where` naming dashboard, panel and refId."""
    for panel in all_panels(dashboard):
        for target in panel.get("targets", []):
            if "expr" in target:
                yield f"{dashboard['uid']} / {panel['title']} / {target['refId']}", target["expr"]


def variable_queries(dashboard: Json) -> Iterator[tuple[str, str]]:
    """(where, query) for every query variable."""
    for var in dashboard.get("templating", {}).get("list", []):
        if var.get("type") == "query":
            query = var["query"]
            text = query["query"] if isinstance(query, dict) else query
            yield f"{dashboard['uid']} / ${var['name']}", text


def alert_expressions(rules_file: Json) -> Iterator[tuple[str, str]]:
    """(where, expr) for every datasource query of every provisioned alert rule."""
    for group in rules_file.get("groups", []):
        for rule in group["rules"]:
            for query in rule["data"]:
                if query["datasourceUid"] != "__expr__":
                    yield (
                        f"{group['name']} / {rule['uid']} / {query['refId']}",
                        query["model"]["expr"],
                    )


def label_values_query(query: str) -> str:
    """The PromQL of a `label_values(selector, label)` variable query.

    >>> label_values_query('label_values(up{job="x"}, instance)')
    'group by (instance) (up{job="x"})'
    """
    match = _LABEL_VALUES.match(query)
    if not match:
        raise ValueError(f"not a label_values(...) query: {query!r}")
    selector = match["selector"] or '{__name__=~".+"}'
    return f"group by ({match['label']}) ({selector})"


def substitute(expr: str, values: Mapping[str, str]) -> str:
    """`expr` with every $var, ${var} and [[var]] replaced; an unknown variable raises KeyError.

    >>> substitute('rate(x{e=~"$endpoint"}[$__range])', {"endpoint": "a", "__range": "1h"})
    'rate(x{e=~"a"}[1h])'
    """

    def value(match: re.Match[str]) -> str:
        name = next(g for g in match.groups() if g)
        if name not in values:
            raise KeyError(f"no value for Grafana variable ${name} in {expr!r}")
        return values[name]

    return _VARIABLE.sub(value, expr)


def variables_used(expr: str) -> set[str]:
    """The names of the Grafana variables `expr` refers to."""
    return {next(g for g in m.groups() if g) for m in _VARIABLE.finditer(expr)}


def _blank(expr: str) -> str:
    """`expr` with strings and comments replaced by spaces (positions kept)."""
    expr = _COMMENT.sub(lambda m: " " * len(m.group()), expr)
    return _STRING.sub(lambda m: " " * len(m.group()), expr)


def _skip_braces(text: str, i: int) -> int:
    """The index after a `{...}` label matcher starting at or after `i` (spaces skipped)."""
    while i < len(text) and text[i].isspace():
        i += 1
    if i < len(text) and text[i] == "{":
        i = text.index("}", i) + 1
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _identifiers(expr: str) -> Iterator[tuple[str, int, int]]:
    """(name, start, end) of identifiers outside strings, comments and label matchers."""
    text = _blank(expr)
    depth = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "[":
            i = text.index("]", i)
        elif depth == 0 and (ch.isalpha() or ch in "_:") and (i == 0 or not _word(text[i - 1])):
            match = _IDENT.match(text, i)
            assert match is not None
            yield match.group(), i, match.end()
            i = match.end()
            continue
        i += 1


def _word(ch: str) -> bool:
    return ch.isalnum() or ch in "_:."


def metric_names(expr: str) -> set[str]:
    """The metric names `expr` selects (functions, keywords and label lists excluded)."""
    text = _blank(expr)
    names = set()
    for name, start, end in _identifiers(expr):
        after = text[end:].lstrip()
        if after.startswith("(") or re.match(r"(by|without)\b", after) or name.lower() in KEYWORDS:
            continue  # a function or an aggregation, or a keyword
        before = text[:start].rstrip()
        if re.search(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*$", before):
            continue  # a label name in a grouping list
        names.add(name)
    return names


def counters_without_rate(expr: str) -> list[str]:
    """Counter-like series (`*_total`, `*_count`, `*_bucket`, `*_sum`) read without a rate.

    >>> counters_without_rate('sum(rate(a_total[5m])) / sum(b_total)')
    ['b_total']
    """
    text = _blank(expr)
    bad = []
    for name in sorted(metric_names(expr)):
        if not name.endswith(COUNTER_SUFFIXES):
            continue
        for match in re.finditer(rf"(?<![\w:]){re.escape(name)}(?![\w:])", text):
            after = _skip_braces(text, match.end())
            before = text[: match.start()].rstrip()
            inside_rate = any(re.search(rf"\b{f}\s*\($", before) for f in RATE_FUNCTIONS)
            if not (after < len(text) and text[after] == "[" and inside_rate):
                bad.append(name)
                break
    return bad


def range_windows(expr: str) -> list[str]:
    """The contents of every range selector `[...]` (subqueries' too)."""
    return re.findall(r"\[([^\]]*)\]", _blank(expr))
