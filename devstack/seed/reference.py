"""The seed's fixed world: sites, programs, approved assessments and templates."""

from __future__ import annotations

import hashlib
import random
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from devstack.seed.records import (
    Assessment,
    AssessmentValidity,
    BadgeTemplate,
    Program,
    ProgramAssessment,
    Site,
)
from devstack.seed.vocabulary import (
    ALWAYS_BADGEABLE,
    ASSESSMENTS_PER_FAMILY,
    CROSS_CUTTING,
    DISTRICTS,
    FAMILIES,
    FIRST_NAMES,
    LAST_NAMES,
    PROGRAMS_PER_FAMILY,
    SITES,
    TOWNS,
    UNACCREDITED_SITES,
    UNAPPROVED_PROGRAMS,
    VENDORS,
)

_TEMPLATE_NAMESPACE = uuid.UUID("5d0c6f1e-3b7a-4c55-9a51-0c7e2a9d4b10")
# How long the agency says certifications stay valid, for part of the approved list: two to
# five years, as safety, food handling and IT vendor certifications renew (issue 31). At least
# two years, so no seeded entry of 2026 earns a badge already expired.
VALIDITY_MONTHS = (24, 36, 36, 60)
# The default expiry some Credly templates set themselves (three years), used where the
# agency sets none (docs/ledger.md, "Expiry").
TEMPLATE_EXPIRY_DAYS = 1095


def stream(seed: int, purpose: str) -> random.Random:
    """A generator of its own for one purpose, so that changing one never shifts another."""
    digest = hashlib.sha256(f"{seed}/{purpose}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


@cache
def ascii_letters(text: str) -> str:
    """Lower-case letters and digits only: José O'Brien-Núñez -> joseobriennunez."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


@dataclass
class Reference:
    """The seed's fixed world, plus the lookups row generation needs."""

    sites: list[Site]
    programs: list[Program]
    assessments: list[Assessment]
    program_assessments: list[ProgramAssessment]
    badge_templates: list[BadgeTemplate]
    site_slug: dict[str, str]
    instructors: dict[str, list[str]]
    validities: list[AssessmentValidity] = field(default_factory=list)
    by_code: dict[str, Assessment] = field(init=False)
    active_template: set[str] = field(init=False)
    cover: dict[str, tuple[str, ...]] = field(init=False)
    good_programs: list[Program] = field(init=False)
    unapproved_programs: list[Program] = field(init=False)
    unaccredited_programs: list[Program] = field(init=False)
    agency_codes: list[str] = field(init=False)
    vendor_codes: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.by_code = {a.assessment_code: a for a in self.assessments}
        self.active_template = {t.assessment_code for t in self.badge_templates if t.active}
        cover: dict[str, list[str]] = {p.program_code: [] for p in self.programs}
        for link in self.program_assessments:
            cover[link.program_code].append(link.assessment_code)
        self.cover = {code: tuple(codes) for code, codes in cover.items()}
        accredited = {s.site_code for s in self.sites if s.accredited}
        self.good_programs = [p for p in self.programs
                              if p.approved and p.site_code in accredited]
        self.unapproved_programs = [p for p in self.programs if not p.approved]
        self.unaccredited_programs = [p for p in self.programs
                                      if p.approved and p.site_code not in accredited]
        self.agency_codes = [a.assessment_code for a in self.assessments
                             if not a.vendor_issues_badge]
        self.vendor_codes = [a.assessment_code for a in self.assessments
                             if a.vendor_issues_badge]

    def effective(self, code: str, on: date) -> bool:
        found = self.by_code[code]
        return found.approved_from <= on and (found.approved_to is None
                                              or on <= found.approved_to)

    def vendor_badged(self, code: str) -> bool:
        return self.by_code[code].vendor_issues_badge


def person(rng: random.Random) -> tuple[str, str]:
    first = rng.choice(FIRST_NAMES)
    last = rng.choice(LAST_NAMES)
    if rng.random() < 0.05:
        # Hyphenated surnames: two families' names joined.
        last = f"{last}-{rng.choice(LAST_NAMES)}"
    return first, last


def _make_sites(rng: random.Random) -> tuple[list[Site], dict[str, str]]:
    campuses = [1] * len(DISTRICTS)
    while sum(campuses) < SITES:
        district = rng.randrange(len(DISTRICTS))
        if campuses[district] < 4:
            campuses[district] += 1
    towns = iter(rng.sample(TOWNS, SITES))
    district_numbers = rng.sample(range(1, 10_000), len(DISTRICTS))
    unaccredited = set(rng.sample(range(SITES), UNACCREDITED_SITES))
    sites: list[Site] = []
    slugs: dict[str, str] = {}
    for district, count, number in zip(DISTRICTS, campuses, district_numbers, strict=True):
        county = rng.randint(1, 77)
        for campus in range(1, count + 1):
            # County (2) + district (4) + campus (3): nine digits, leading zeros kept.
            code = f"{county:02d}{number:04d}{campus:03d}"
            town = next(towns)
            # Drawn from no random stream: every other seeded value stays as it was.
            sites.append(Site(code, f"{district} Technology Center - {town} Campus",
                              len(sites) not in unaccredited,
                              f"testing.{code}@{ascii_letters(district)}.example.org"))
            slugs[code] = ascii_letters(district)
    return sites, slugs


def _approval_window(rng: random.Random) -> tuple[date, date | None]:
    """Mostly listed since 2013-2022 and still current; some retired, some listed later."""
    roll = rng.random()
    if roll < 0.70:
        return date(rng.randint(2013, 2022), 7, 1), None
    if roll < 0.85:
        start = rng.randint(2013, 2018)
        return date(start, 7, 1), date(rng.randint(max(start + 1, 2019), 2025), 6, 30)
    return date(rng.randint(2023, 2027), 7, 1), None


def _make_assessments(
    rng: random.Random, seed: int,
) -> tuple[list[Assessment], list[list[str]], list[str], list[BadgeTemplate]]:
    taken: set[str] = set()

    def new_code(prefix: str) -> str:
        digits = VENDORS[prefix][3]
        while True:
            code = f"{prefix}{rng.randrange(10**digits):0{digits}d}"
            if code not in taken:
                taken.add(code)
                return code

    assessments: list[Assessment] = []
    templates: list[BadgeTemplate] = []

    def add(prefix: str, name: str, *, always_badgeable: bool) -> str:
        vendor, credential_type, badges_share, _ = VENDORS[prefix]
        code = new_code(prefix)
        if always_badgeable:
            vendor_badge = False
            window: tuple[date, date | None] = (date(rng.randint(2013, 2021), 7, 1), None)
        else:
            vendor_badge = rng.random() < badges_share
            window = _approval_window(rng)
        assessments.append(Assessment(code, name, vendor, credential_type, vendor_badge,
                                      *window))
        if not vendor_badge:
            # Templates exist only where the agency badges; a few are missing or retired.
            roll = 0.0 if always_badgeable else rng.random()
            if roll < 0.82:
                template_id = str(uuid.uuid5(_TEMPLATE_NAMESPACE, f"{seed}:{code}"))
                templates.append(BadgeTemplate(code, template_id, roll < 0.70))
        return code

    by_family: list[list[str]] = []
    for family in FAMILIES:
        agency_vendors = [p for p in family.vendors if VENDORS[p][2] < 1.0]
        codes = []
        for slot in range(ASSESSMENTS_PER_FAMILY):
            topic = family.topics[slot % len(family.topics)]
            name = topic if slot < len(family.topics) else f"{topic} - Advanced"
            always = slot < ALWAYS_BADGEABLE
            prefix = rng.choice(agency_vendors if always else family.vendors)
            codes.append(add(prefix, name, always_badgeable=always))
        by_family.append(codes)
    cross = [add(prefix, name, always_badgeable=False) for prefix, name in CROSS_CUTTING]
    return assessments, by_family, cross, templates


def _make_programs(
    rng: random.Random, sites: list[Site], by_family: list[list[str]], cross: list[str],
) -> tuple[list[Program], list[ProgramAssessment]]:
    families = [f for f in range(len(FAMILIES)) for _ in range(PROGRAMS_PER_FAMILY)]
    rng.shuffle(families)
    # Every campus runs at least two programs; the rest go to campuses at random.
    site_slots = [s for s in sites for _ in range(2)]
    site_slots += rng.choices(sites, k=len(families) - len(site_slots))
    numbers = rng.sample(range(10_000, 100_000), len(families))
    unapproved = set(rng.sample(range(len(families)), UNAPPROVED_PROGRAMS))
    programs: list[Program] = []
    links: list[ProgramAssessment] = []
    for index, (family_index, site, number) in enumerate(
            zip(families, site_slots, numbers, strict=True)):
        family = FAMILIES[family_index]
        program = Program(f"P{number}", family.name, family.cip, site.site_code,
                          index not in unapproved)
        programs.append(program)
        own = by_family[family_index]
        covered = own[:ALWAYS_BADGEABLE]
        covered += rng.sample(own[ALWAYS_BADGEABLE:], rng.randint(2, 5))
        covered += rng.sample(cross, rng.randint(1, 3))
        links.extend(ProgramAssessment(program.program_code, code) for code in covered)
    return programs, links


def _make_instructors(rng: random.Random, sites: list[Site]) -> dict[str, list[str]]:
    logins: dict[str, list[str]] = {}
    for site in sites:
        names = (person(rng) for _ in range(rng.randint(3, 7)))
        logins[site.site_code] = [
            f"{ascii_letters(first)[0]}{ascii_letters(last)}{site.site_code[-3:]}"
            for first, last in names]
    return logins


def template_expiry_days(template_id: str) -> int | None:
    """The default expiry a sandbox template sets itself (every fifth template, by its id, so
    devstack's template sync and the seed agree without sharing state); None: none."""
    return TEMPLATE_EXPIRY_DAYS if int(hashlib.sha256(template_id.encode()).hexdigest(),
                                       16) % 5 == 0 else None


def _make_validities(seed: int, templates: list[BadgeTemplate]) -> list[AssessmentValidity]:
    """The agency's validity for about half the assessments it badges: months, a few never;
    the rest follow their template (its own default expiry, or none). From a stream of its
    own: the rest of the seed stays as it was before validities existed."""
    rng = stream(seed, "validity")
    found = []
    for template in templates:
        roll = rng.random()
        if roll < 0.45:
            found.append(AssessmentValidity(template.assessment_code,
                                            rng.choice(VALIDITY_MONTHS), False))
        elif roll < 0.55:
            found.append(AssessmentValidity(template.assessment_code, None, True))
    return found


def build_reference(seed: int) -> Reference:
    rng = stream(seed, "reference")
    sites, slugs = _make_sites(rng)
    assessments, by_family, cross, templates = _make_assessments(rng, seed)
    programs, links = _make_programs(rng, sites, by_family, cross)
    instructors = _make_instructors(rng, sites)
    return Reference(sites, programs, assessments, links, templates, slugs, instructors,
                     _make_validities(seed, templates))


