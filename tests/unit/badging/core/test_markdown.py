"""CTIMS values in the approval forms' Markdown show as typed: escaped, on one line."""

from __future__ import annotations

import pytest

from badging.core.markdown import escape


@pytest.mark.parametrize("char", list("|*_[]()#<>\\`!~-+=.{}&"))
def test_every_markdown_metacharacter_is_escaped(char):
    assert escape(f"a{char}b") == f"a\\{char}b"


def test_a_hostile_site_code_cannot_break_the_table_or_format_the_form():
    code = "0012|**x**\n| injected | row |\r\n[link](http://evil.example)<img>"
    escaped = escape(code)
    assert "\n" not in escaped
    assert "\r" not in escaped
    # No metacharacter is left without its backslash.
    unescaped = [c for i, c in enumerate(escaped)
                 if c in "|*_[]()#<>" and (i == 0 or escaped[i - 1] != "\\")]
    assert unescaped == []
    assert escaped.replace("\\", "") == code.replace("\r\n", " ").replace("\n", " ")


def test_plain_codes_and_numbers_are_unchanged():
    assert escape("OK0000001") == "OK0000001"
    assert escape(123456789) == "123456789"
    assert escape("no aligned program") == "no aligned program"
