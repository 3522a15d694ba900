"""Whether two spellings of a person's name are the same name (docs/history-load.md).

A badge Credly holds for a student's address without our earner id is theirs only if it names
them: an older sibling's badge, issued by hand to the family address, must not be taken. CTIMS
and Credly's web app spell one name differently (case, accents, a hyphen typed as a space), so
names are compared folded: case folded, accents and other diacritics removed, and everything
but letters and digits ignored (spaces, hyphens, apostrophes, periods). "Zoë O'Brien-Smith"
and "ZOE  obrien smith" are one name. First and last names are compared each with its own;
a middle name is not compared (CTIMS keeps none). An empty part matches nothing.

Names are PII: a NameKey never prints its value, and nothing here logs.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

# Letters that carry their mark in the glyph rather than as a combining character, so
# decomposition leaves them whole; folded as a person typing without them would.
_UNDECOMPOSED = str.maketrans({"ø": "o", "đ": "d", "ð": "d", "ł": "l", "ħ": "h", "ı": "i",
                               "ŧ": "t", "æ": "ae", "œ": "oe", "þ": "th"})


def fold(part: str | None) -> str:
    """One part of a name as compared: casefolded, without diacritics, letters and digits only.

    >>> fold("  Zoë O’Brien-Smith ")
    'zoeobriensmith'
    """
    if not part:
        return ""
    decomposed = unicodedata.normalize("NFKD", part.casefold().translate(_UNDECOMPOSED))
    # Combining marks (the accents NFKD split off) are not alphanumeric: they go too.
    return "".join(ch for ch in decomposed if ch.isalnum())


@dataclass(frozen=True)
class NameKey:
    """A first and last name, folded (`fold`); compared, never shown (repr hides both)."""

    first: str = field(repr=False)
    last: str = field(repr=False)

    @classmethod
    def of(cls, first: str | None, last: str | None) -> NameKey:
        return cls(fold(first), fold(last))

    def matches(self, other: NameKey) -> bool:
        """The same first and last name; never when a part is empty on either side."""
        return bool(self.first and self.last) and self == other
