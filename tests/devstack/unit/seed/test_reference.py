"""The seed's fixed world: the same for a seed whatever the rows, and CareerTech-shaped."""
from __future__ import annotations

import re
import uuid
from collections import Counter
from datetime import date

from devstack.seed import IdStart, SeedParams, generate
from tests.devstack.unit.seed.world import (
    CODE,
    MIXED,
    SITE,
    dataset,
)


def test_reference_data_depends_on_the_seed_alone():
    small = generate(SeedParams(date(2023, 3, 1), date(2023, 3, 2), rows=10, seed=9))
    large = generate(SeedParams(date(2022, 1, 1), date(2025, 1, 1), rows=4000, dirty_rate=0.5,
                                seed=9), start_ids=IdStart(5_000_000, 77))
    for table in ("sites", "programs", "approved_assessments", "program_assessments",
                  "badge_templates"):
        assert getattr(small, table) == getattr(large, table), table


def test_reference_data_looks_like_careertech():
    d = dataset(MIXED)
    assert len(d.sites) == 60
    assert all(SITE.match(s.site_code) for s in d.sites)
    assert 0 < sum(not s.accredited for s in d.sites) < 10
    assert len(d.programs) == 150
    assert all(re.fullmatch(r"\d\d\.\d{4}", p.cip_code) for p in d.programs)
    assert 0 < sum(not p.approved for p in d.programs) < 30
    assessments = d.approved_assessments
    assert 250 <= len(assessments) <= 400
    assert all(CODE.match(a.assessment_code) for a in assessments)
    assert {a.credential_type for a in assessments} == {"license", "certification",
                                                        "micro-credential"}
    assert 0.15 <= sum(a.vendor_issues_badge for a in assessments) / len(assessments) <= 0.35
    assert any(a.approved_to and a.approved_to < date(2025, 1, 1) for a in assessments)
    assert any(a.approved_from > date(2024, 1, 1) for a in assessments)
    assert sum(2013 <= a.approved_from.year <= 2022 for a in assessments) > len(assessments) / 2
    covered = Counter(pa.program_code for pa in d.program_assessments)
    assert min(covered.values()) >= 3
    templates = {t.assessment_code: t for t in d.badge_templates}
    assert all(uuid.UUID(t.credly_template_id) for t in templates.values())
    vendor = {a.assessment_code for a in assessments if a.vendor_issues_badge}
    assert not vendor & templates.keys()
    agency = [a.assessment_code for a in assessments if not a.vendor_issues_badge]
    assert any(code not in templates for code in agency)
    assert any(not t.active for t in templates.values())
