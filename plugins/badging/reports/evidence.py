"""What a badge's evidence says (docs/production.md, "Evidence"): where the course work was
done, the assessment and its test date, and the certification id for tracing — CTIMS names
and ids, never student data. Evidence is public on a badge's page, so the agency can switch
it off or choose its fields (the Airflow Variable `badging_evidence`, config/variables.json);
its text comes from include/templates/reports/evidence.txt.j2."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from badging.core.recipients import EntryFacts
from badging.reports.templates import render

EVIDENCE_VARIABLE = "badging_evidence"
# The fields the agency may choose, in the order the text gives them.
FIELDS = ("program", "site", "assessment", "test_date", "certification_id")
# The ones the text is made of; certification_id is an IdEvidence of its own.
TEXT_FIELDS = FIELDS[:4]
TEXT_TITLE = "Earned at an Oklahoma CareerTech technology center"
ID_TITLE = "CTIMS certification id"
ID_DESCRIPTION = "The Real-Time certification entry this badge was issued for"


@dataclass(frozen=True)
class EvidencePolicy:
    """Whether badges carry evidence and which fields (the Variable's value)."""

    enabled: bool = True
    fields: tuple[str, ...] = FIELDS

    @classmethod
    def of(cls, configured: Any) -> EvidencePolicy:
        """The policy a Variable value says; None (unset) is the default: everything.

        Raises:
            ValueError: not {"enabled": bool, "fields": [names of FIELDS]}.
        """
        if configured is None:
            return cls()
        if not isinstance(configured, Mapping) or set(configured) - {"enabled", "fields"}:
            raise ValueError(f"Variable {EVIDENCE_VARIABLE} must be "
                             '{"enabled": true|false, "fields": [...]}')
        enabled = configured.get("enabled", True)
        fields = configured.get("fields", list(FIELDS))
        if not isinstance(enabled, bool):
            raise ValueError(f"Variable {EVIDENCE_VARIABLE}: enabled must be true or false")
        if not isinstance(fields, list) or not set(fields) <= set(FIELDS):
            raise ValueError(f"Variable {EVIDENCE_VARIABLE}: fields must be a list of "
                             f"{', '.join(FIELDS)}")
        return cls(enabled, tuple(f for f in FIELDS if f in fields))

    def evidence(self, facts: EntryFacts | None) -> tuple[dict[str, str], ...]:
        """Credly evidence objects for one entry: a PlainTextEvidence from the template and the
        certification id as an IdEvidence; () when switched off or nothing is chosen."""
        if not self.enabled or facts is None:
            return ()
        found: list[dict[str, str]] = []
        chosen = [f for f in TEXT_FIELDS if f in self.fields]
        text = render("reports/evidence.txt.j2", facts=facts, show=set(chosen)).strip()
        if chosen and text:
            found.append({"type": "PlainTextEvidence", "title": TEXT_TITLE,
                          "description": " ".join(text.split())})
        if "certification_id" in self.fields:
            found.append({"type": "IdEvidence", "title": ID_TITLE,
                          "description": ID_DESCRIPTION, "id": str(facts.certification_id)})
        return tuple(found)


def policy_from_airflow() -> EvidencePolicy:
    """The policy the Airflow Variable sets, read when a task runs (never at parse time).

    Raises:
        ValueError: a malformed value (the task fails without retry: fix the Variable).
    """
    from airflow.sdk import Variable

    return EvidencePolicy.of(Variable.get(EVIDENCE_VARIABLE, default=None,
                                          deserialize_json=True))
