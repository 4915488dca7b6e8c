"""Just enough PromQL reading to list the metric names an expression selects.

>>> sorted(metric_names('sum by (le) (rate(a_total{x="1"}[5m])) / on (j) b offset 5m'))
['a_total', 'b']
"""

from __future__ import annotations

import re

_COMMENT = re.compile(r"#[^\n]*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_BRACES = re.compile(r"\{[^}]*\}|\[[^\]]*\]")
_GROUPING = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", re.IGNORECASE
)
_OFFSET = re.compile(r"\boffset\s+\w+", re.IGNORECASE)
_NAME = re.compile(r"(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(\s*\()?")
_KEYWORDS = {"and", "or", "unless", "bool", "inf", "nan"}


def metric_names(expr: str) -> set[str]:
    """The metric (and recorded series) names that `expr` selects."""
    text = _COMMENT.sub(" ", expr)
    text = _STRING.sub(" ", text)
    text = _BRACES.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    text = _OFFSET.sub(" ", text)
    names: set[str] = set()
    for match in _NAME.finditer(text):
        name, call = match.groups()
        if call or name.lower() in _KEYWORDS:
            continue  # a function or aggregation, or an operator keyword
        names.add(name)
    return names
