"""A badge's evidence: CTIMS names and ids only, from a template, switched off or trimmed by
the agency's Variable (badging/reports/evidence.py)."""

from __future__ import annotations

from datetime import date

import pytest

from badging.core.recipients import EntryFacts
from badging.reports.evidence import EvidencePolicy

FACTS = EntryFacts(4711, date(2026, 5, 11), "AWS101", "Welding & Cutting", "P12345",
                   "Welding Technology", "012345001", "Central Technology Center - Drumright")


def test_by_default_the_program_site_assessment_test_date_and_certification_id():
    text, ident = EvidencePolicy().evidence(FACTS)
    assert text == {
        "type": "PlainTextEvidence",
        "title": "Earned at an Oklahoma CareerTech technology center",
        "description": "Passed Welding & Cutting (AWS101) on 2026-05-11. Course work in the "
                       "approved program Welding Technology at Central Technology Center - "
                       "Drumright."}
    assert ident == {"type": "IdEvidence", "title": "CTIMS certification id",
                     "description": "The Real-Time certification entry this badge was issued "
                                    "for", "id": "4711"}


def test_the_agency_chooses_the_fields_or_switches_it_off():
    only_site = EvidencePolicy.of({"fields": ["site"]})
    assert only_site.evidence(FACTS) == ({
        "type": "PlainTextEvidence",
        "title": "Earned at an Oklahoma CareerTech technology center",
        "description": "Course work at Central Technology Center - Drumright."},)
    only_id = EvidencePolicy.of({"fields": ["certification_id"]}).evidence(FACTS)
    assert [e["type"] for e in only_id] == ["IdEvidence"]
    assert EvidencePolicy.of({"enabled": False}).evidence(FACTS) == ()
    assert EvidencePolicy.of({"fields": []}).evidence(FACTS) == ()
    # Unset: everything (config/variables.json declares the same).
    assert EvidencePolicy.of(None) == EvidencePolicy()


def test_codes_stand_in_for_names_ctims_does_not_know():
    unnamed = EntryFacts(7, date(2026, 5, 11), "AWS101", None, "P1", None, None, None)
    [text, _] = EvidencePolicy().evidence(unnamed)
    assert text["description"] == ("Passed AWS101 on 2026-05-11. Course work in the approved "
                                   "program P1.")


def test_a_test_date_ctims_lost_is_left_out_not_an_error():
    lost = EntryFacts(7, None, "AWS101", "Welding", "P1", None, None, None)
    assert EvidencePolicy.of({"fields": ["test_date"]}).evidence(lost) == ()
    [text] = EvidencePolicy.of({"fields": ["assessment", "test_date"]}).evidence(lost)
    assert text["description"] == "Passed Welding (AWS101)."


@pytest.mark.parametrize("bad", [["site"], {"fields": "site"}, {"fields": ["student_name"]},
                                 {"enabled": "yes"}, {"enabled": True, "extra": 1}])
def test_a_malformed_variable_is_refused_by_name(bad):
    with pytest.raises(ValueError, match="badging_evidence"):
        EvidencePolicy.of(bad)


def test_the_declared_variable_is_the_default_policy():
    import json
    from pathlib import Path

    declared = json.loads((Path(__file__).resolve().parents[4] / "config" / "variables.json")
                          .read_text())["badging_evidence"]["value"]
    assert EvidencePolicy.of(declared) == EvidencePolicy()
