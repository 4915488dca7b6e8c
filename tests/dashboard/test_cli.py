from __future__ import annotations

import argparse

import pytest

from dashboard import cli


def test_the_command_line_overrides_the_environment() -> None:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(
        ["--port", "9001", "--host", "0.0.0.0", "--prometheus-url", "http://p:1"]
    )
    assert (args.port, args.host, args.prometheus_url) == (9001, "0.0.0.0", "http://p:1")
    assert parser.parse_args([]).port is None  # then DASHBOARD_PORT, then 8050


def test_a_bad_setting_exits_2_with_its_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DASHBOARD_PORT", "not-a-port")
    assert cli.main([]) == 2
    assert "DASHBOARD_PORT" in capsys.readouterr().err
