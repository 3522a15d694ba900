"""Utf8Lines: whole COPY rows out however the stream is cut, each flagged UTF-8 or not."""

from __future__ import annotations

import pytest

from badging.pipeline.extract import Utf8Lines

# COPY text rows: tab-separated, a newline inside a value escaped as \n, \N for null.
GOOD = ["1\tZoë\tNguyễn\tzoe@example.org\n", "2\tAna\\nMaria\t\\N\tana@example.org\n"]
BAD = b"3\tJos\xe9\tMu\xf1oz\tjose@example.org\n"


def _stream() -> bytes:
    return GOOD[0].encode() + BAD + GOOD[1].encode()


def _flagged(chunks: list[bytes]) -> tuple[bytes, int]:
    lines = Utf8Lines()
    return b"".join(lines.flagged(chunks)), lines.invalid


EXPECTED = (GOOD[0].encode()[:-1] + b"\tt\n"
            + "3\tJos\ufffd\tMu\ufffdoz\tjose@example.org".encode() + b"\tf\n"
            + GOOD[1].encode()[:-1] + b"\tt\n")


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_rows_are_whole_and_flagged_however_the_stream_is_cut(size):
    stream = _stream()
    chunks = [stream[i:i + size] for i in range(0, len(stream), size)]
    assert _flagged(chunks) == (EXPECTED, 1)


def test_one_chunk_per_row_as_libpq_gives_them():
    rows = [GOOD[0].encode(), BAD, GOOD[1].encode()]
    assert _flagged([memoryview(r) for r in rows]) == (EXPECTED, 1)


def test_valid_rows_pass_unchanged_but_for_their_flag():
    assert _flagged([g.encode() for g in GOOD]) == (
        b"".join(g.encode()[:-1] + b"\tt\n" for g in GOOD), 0)
    assert _flagged([]) == (b"", 0)


def test_a_stream_ending_inside_a_row_is_refused():
    with pytest.raises(ValueError, match="ended inside a row"):
        _flagged([GOOD[0].encode(), b"4\tcut"])
