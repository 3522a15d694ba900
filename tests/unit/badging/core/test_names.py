"""The name rule: two spellings of one name match, a sibling's name never does."""

from __future__ import annotations

import pytest

from badging.core.names import NameKey, fold


@pytest.mark.parametrize(("ctims", "credly"), [
    (("Ada", "Probe"), ("ADA", "probe")),                        # case
    (("Ada", "Probe"), ("  Ada ", "Probe\t")),                   # surrounding whitespace
    (("Mary Jane", "Watson"), ("Mary  Jane", "Watson")),         # inner whitespace
    (("Zoë", "Núñez"), ("Zoe", "Nunez")),                        # accents
    (("Zoe", "Nunez"), ("Zoë", "Núñez")),                        # the other way round
    (("José", "Muñoz"), ("Jose\u0301", "Mun\u0303oz")),          # combining marks (NFD)
    (("Mary-Jane", "Smith"), ("Mary Jane", "Smith")),            # hyphen = space
    (("Mary-Jane", "Smith"), ("MaryJane", "Smith")),             # hyphen = nothing
    (("Anne", "Smith–Jones"), ("Anne", "Smith-Jones")),          # en dash
    (("Liam", "O'Brien"), ("Liam", "O’Brien")),                  # typographic apostrophe
    (("Liam", "O'Brien"), ("Liam", "OBrien")),                   # apostrophe = nothing
    (("Liam", "O'Brien"), ("Liam", "O Brien")),
    (("J.R.", "Smith"), ("JR", "Smith")),                        # periods
    (("Søren", "Łukasz"), ("Soren", "Lukasz")),                  # letters without a decomposition
    (("Strauß", "Weiß"), ("Strauss", "WEISS")),                  # casefold
    (("Ｊａｎｅ", "Doe"), ("Jane", "Doe")),                        # full-width (NFKD)
])
def test_two_spellings_of_one_name_match(ctims, credly):
    assert NameKey.of(*ctims).matches(NameKey.of(*credly))


@pytest.mark.parametrize(("ctims", "credly"), [
    (("Ada", "Probe"), ("Grace", "Probe")),       # a sibling: same family name
    (("Ada", "Probe"), ("Ada", "Lovelace")),
    (("Ada", "Probe"), ("Probe", "Ada")),         # first and last are compared apart
    (("Ada", "Probe"), ("Ada Probe", "")),
    (("Ada", "Probe"), ("Ada", "Probe Jr")),      # a suffix is part of the name
    (("Ann", "Lee"), ("Anne", "Lee")),
    (("", ""), ("", "")),                         # nothing matches nothing
    (("-", "'"), ("", "")),
    ((None, None), (None, None)),
])
def test_different_names_never_match(ctims, credly):
    assert not NameKey.of(*ctims).matches(NameKey.of(*credly))


def test_fold_keeps_letters_and_digits_of_any_script_only():
    assert fold("  Zoë O’Brien-Smith ") == "zoeobriensmith"
    assert fold("李 小龍") == "李小龍"
    assert fold(None) == fold("") == fold(" - ' ") == ""


def test_a_name_key_never_shows_the_name():
    key = NameKey.of("Zoë", "Miller")
    assert "zoe" not in repr(key).lower()
    assert "miller" not in repr(key).lower()
