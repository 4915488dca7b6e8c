"""The tracking listener's RESP3 reading: invalidation pushes, flushes, partial frames, errors."""

from __future__ import annotations

import pytest

from service.tracking import ProtocolError, Push, _Incomplete, _split, encode, parse

INVALIDATE = b">2\r\n$10\r\ninvalidate\r\n*2\r\n$3\r\nk:1\r\n$3\r\nk:2\r\n"
FLUSH = b">2\r\n$10\r\ninvalidate\r\n_\r\n"


def test_an_invalidation_push_names_its_keys() -> None:
    frame, end = parse(INVALIDATE)
    assert isinstance(frame, Push)
    assert frame == [b"invalidate", [b"k:1", b"k:2"]]
    assert end == len(INVALIDATE)


def test_a_flush_is_an_invalidation_of_null() -> None:
    assert parse(FLUSH)[0] == [b"invalidate", None]


def test_frames_split_anywhere_wait_for_the_rest() -> None:
    data = b"+OK\r\n" + INVALIDATE + FLUSH
    for cut in range(len(data)):
        first, rest = _split(data[:cut])
        second, left = _split(rest + data[cut:])
        assert first + second == [b"OK", [b"invalidate", [b"k:1", b"k:2"]], [b"invalidate", None]]
        assert left == b""


def test_a_truncated_bulk_string_is_incomplete() -> None:
    with pytest.raises(_Incomplete):
        parse(b"$10\r\ninval")


def test_errors_are_returned_as_values() -> None:
    error, _ = parse(b"-ERR unknown command\r\n")
    assert isinstance(error, ProtocolError) and "unknown command" in str(error)


def test_the_hello_map_and_scalars_parse() -> None:
    frame, _ = parse(b"%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n")
    assert frame == [b"server", b"redis", b"proto", 3]
    assert parse(b"#t\r\n")[0] is True
    assert parse(b"$-1\r\n")[0] is None


def test_commands_are_arrays_of_bulk_strings() -> None:
    assert encode("PING") == b"*1\r\n$4\r\nPING\r\n"
    assert parse(encode("CLIENT", "TRACKING", "ON"))[0] == [b"CLIENT", b"TRACKING", b"ON"]
