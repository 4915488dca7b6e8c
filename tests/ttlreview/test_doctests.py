"""The usage examples in the modules' docstrings run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "cli",
    "curve",
    "events",
    "flags",
    "history",
    "recommend",
    "sampling",
    "simulate",
    "summary",
    "synthetic",
    "timeline",
    "trace",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"ttlreview.{name}")
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
