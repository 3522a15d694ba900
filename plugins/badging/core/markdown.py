"""Values from CTIMS (site codes, reasons) placed into the approval forms' Markdown, escaped.

An instructor types a site code; a code such as `0012|**x**` must show as typed in the form's
table, not break the table or format the page. CommonMark lets any ASCII punctuation be
escaped with a backslash, so every punctuation character is; a line break inside a value
would end a table row, so it becomes a space (as would any other control character).
"""

from __future__ import annotations

import re

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def escape(value: object) -> str:
    """`value` as literal Markdown text, on one line."""
    return _PUNCTUATION.sub(r"\\\1", _CONTROL.sub(" ", str(value)))
