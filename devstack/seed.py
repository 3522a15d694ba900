"""Deterministic synthetic CTIMS data, with the outcome each Real-Time row was built to get."""

from __future__ import annotations

import argparse
import hashlib
import random
import re
import time
import unicodedata
import uuid
from bisect import bisect
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from functools import cache
from itertools import accumulate
from pathlib import Path
from typing import NamedTuple

import psycopg
from psycopg import sql

from badging.constants import AGENCY_TZ, PROGRAM_LAUNCH

CHICAGO = AGENCY_TZ
# The truth assumes the DAG's program_launch param keeps its default, PROGRAM_LAUNCH.
ASSESSMENT_CODE = re.compile(r"^([A-Z]{2,6})([0-9]{3,6})$")

# Dirty rows that validation must quarantine; the other three kinds pass validation.
QUARANTINE_KINDS = (
    "missing_email", "malformed_email", "blank_name", "malformed_assessment_code",
    "null_test_date", "future_test_date", "impossible_test_date", "bad_site_code",
)
DIRTY_KINDS = (*QUARANTINE_KINDS, "unknown_assessment", "duplicate", "noise")

# Outcomes of clean rows, as shares. Every ineligible reason gets a few percent so that
# a seed of a few hundred rows still shows each of them.
CLEAN_MIX = (
    ("eligible", 0.70),
    ("deleted", 0.02),
    ("assessment_not_effective", 0.04),
    ("vendor_badge", 0.07),
    ("no_aligned_program", 0.06),
    ("before_program_launch", 0.04),
    ("no_badge_template", 0.04),
    ("opted_out", 0.03),
)
# When a row cannot be built as intended (say, an eligible row whose test date falls
# before the launch), the first of these that can be built is used instead.
_FALLBACK = ("eligible", "before_program_launch", "no_aligned_program",
             "assessment_not_effective")

STUDENT_ID_START = 1_000_001
_TEMPLATE_NAMESPACE = uuid.UUID("5d0c6f1e-3b7a-4c55-9a51-0c7e2a9d4b10")
_TRUTH_DDL = Path(__file__).with_name("seed_truth.sql")


# Records, field for field the columns of their tables, so they COPY as they are.
class Site(NamedTuple):
    site_code: str
    name: str
    accredited: bool


class Program(NamedTuple):
    program_code: str
    name: str
    cip_code: str
    site_code: str
    approved: bool


class Assessment(NamedTuple):
    assessment_code: str
    name: str
    vendor: str
    credential_type: str
    vendor_issues_badge: bool
    approved_from: date
    approved_to: date | None


class ProgramAssessment(NamedTuple):
    program_code: str
    assessment_code: str


class Student(NamedTuple):
    student_id: int
    first_name: str | None
    last_name: str | None
    email: str | None
    badge_opt_out: bool


class Enrollment(NamedTuple):
    student_id: int
    program_code: str
    start_date: date
    end_date: date | None


class Certification(NamedTuple):
    certification_id: int
    student_id: int
    assessment_code: str | None
    site_code: str | None
    program_code: str | None
    test_date: date | None
    entered_by: str
    entered_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


class BadgeTemplate(NamedTuple):
    assessment_code: str
    credly_template_id: str
    active: bool


class Truth(NamedTuple):
    certification_id: int
    expected: str
    dirty_kind: str | None
    duplicate_of: int | None


@dataclass(frozen=True)
class SeedParams:
    """What to generate: `rows` Real-Time rows entered between two Chicago days, inclusive."""

    date_from: date
    date_to: date
    rows: int
    dirty_rate: float = 0.05
    seed: int = 1

    def __post_init__(self) -> None:
        if self.date_from > self.date_to:
            raise ValueError("date_from is after date_to")
        if self.date_from < date(2001, 1, 1):
            # Earlier entries would carry test dates the pipeline treats as impossible.
            raise ValueError("date_from must be 2001-01-01 or later")
        if self.rows < 0:
            raise ValueError("rows must not be negative")
        if not 0.0 <= self.dirty_rate <= 1.0:
            raise ValueError("dirty_rate must be between 0 and 1")


@dataclass(frozen=True)
class IdStart:
    """The next free ids, so that a second seed adds rows next to the first one's."""

    student_id: int = STUDENT_ID_START
    certification_id: int = 1


@dataclass(frozen=True)
class Dataset:
    """Everything one seed writes. Reference tables depend on the seed alone."""

    sites: tuple[Site, ...]
    programs: tuple[Program, ...]
    approved_assessments: tuple[Assessment, ...]
    program_assessments: tuple[ProgramAssessment, ...]
    badge_templates: tuple[BadgeTemplate, ...]
    students: tuple[Student, ...]
    enrollments: tuple[Enrollment, ...]
    certifications: tuple[Certification, ...]
    truth: tuple[Truth, ...]


# --- reference data -------------------------------------------------------------------

# prefix: (vendor, credential type, share of its assessments the vendor badges, digits)
_VENDORS = {
    "CTTC": ("CareerTech Testing Center", "certification", 0.0, 5),
    "NCCER": ("NCCER", "certification", 0.7, 5),
    "ASE": ("ASE Education Foundation", "certification", 0.3, 4),
    "ICAR": ("I-CAR", "micro-credential", 1.0, 4),
    "AWS": ("American Welding Society", "certification", 0.5, 4),
    "NIMS": ("National Institute for Metalworking Skills", "certification", 0.6, 4),
    "OCIB": ("Oklahoma Construction Industries Board", "license", 0.0, 4),
    "ESCO": ("ESCO Institute", "certification", 0.5, 3),
    "OBN": ("Oklahoma Board of Nursing", "license", 0.0, 4),
    "OSDH": ("Oklahoma State Department of Health", "license", 0.0, 4),
    "NHA": ("National Healthcareer Association", "certification", 1.0, 4),
    "PTCB": ("Pharmacy Technician Certification Board", "certification", 1.0, 3),
    "NREMT": ("National Registry of Emergency Medical Technicians", "certification", 0.0, 4),
    "AHA": ("American Heart Association", "micro-credential", 0.0, 4),
    "DANB": ("Dental Assisting National Board", "certification", 0.5, 4),
    "OSBC": ("Oklahoma State Board of Cosmetology and Barbering", "license", 0.0, 4),
    "SERVSF": ("National Restaurant Association", "certification", 0.0, 4),
    "ACF": ("American Culinary Federation", "certification", 0.0, 4),
    "CMPTIA": ("CompTIA", "certification", 1.0, 4),
    "CISCO": ("Cisco", "certification", 1.0, 4),
    "ECC": ("EC-Council", "certification", 1.0, 4),
    "MOS": ("Microsoft", "certification", 1.0, 3),
    "INTUIT": ("Intuit", "certification", 1.0, 3),
    "ADOBE": ("Adobe", "certification", 1.0, 3),
    "AUTODK": ("Autodesk", "certification", 1.0, 3),
    "PLTW": ("Project Lead The Way", "micro-credential", 0.5, 4),
    "CDA": ("Council for Professional Recognition", "certification", 0.0, 4),
    "CLEET": ("Council on Law Enforcement Education and Training", "license", 0.0, 4),
    "IFSAC": ("OSU Fire Service Training", "certification", 0.0, 4),
    "DPS": ("Oklahoma Department of Public Safety", "license", 0.0, 4),
    "FAA": ("Federal Aviation Administration", "license", 0.0, 4),
    "EETC": ("Equipment and Engine Training Council", "certification", 0.5, 4),
    "OSHA": ("CareerSafe", "micro-credential", 1.0, 3),
    "ACTWK": ("ACT WorkKeys", "certification", 1.0, 3),
    "WIN": ("WIN Learning", "micro-credential", 0.0, 4),
}


class _Family(NamedTuple):
    """A kind of program: its CIP code, the vendors testing it, the areas they test."""

    name: str
    cip: str
    vendors: tuple[str, ...]
    topics: tuple[str, ...]


_FAMILIES = (
    _Family("Automotive Service Technology", "47.0604", ("ASE", "CTTC"),
            ("Engine Repair", "Automatic Transmission", "Manual Drive Train", "Brakes",
             "Suspension and Steering", "Electrical Systems", "Engine Performance")),
    _Family("Collision Repair", "47.0603", ("ICAR", "ASE", "CTTC"),
            ("Painting and Refinishing", "Non-Structural Analysis", "Structural Analysis",
             "Mechanical and Electrical", "Damage Estimating")),
    _Family("Diesel and Heavy Equipment", "47.0605", ("ASE", "CTTC"),
            ("Diesel Engines", "Drive Train", "Hydraulics", "Truck Brakes",
             "Preventive Maintenance Inspection")),
    _Family("Welding Technology", "48.0508", ("AWS", "NCCER", "CTTC"),
            ("Welding Level 1", "Welding Level 2", "SMAW Plate", "GMAW", "FCAW", "GTAW",
             "Pipe Welding")),
    _Family("Precision Machining", "48.0501", ("NIMS", "CTTC"),
            ("Measurement, Materials and Safety", "Job Planning", "CNC Milling",
             "CNC Turning", "Drill Press")),
    _Family("Electrical Technology", "46.0302", ("NCCER", "OCIB", "CTTC"),
            ("Electrical Level 1", "Electrical Level 2", "Residential Wiring",
             "Apprentice Electrician", "National Electrical Code")),
    _Family("Carpentry", "46.0201", ("NCCER", "CTTC"),
            ("Core Curriculum", "Carpentry Level 1", "Carpentry Level 2", "Framing",
             "Finish Carpentry")),
    _Family("Heating, Ventilation and Air Conditioning", "47.0201", ("ESCO", "NCCER", "CTTC"),
            ("EPA Section 608 Type I", "EPA Section 608 Type II", "EPA Section 608 Universal",
             "HVAC Level 1", "Refrigeration Fundamentals")),
    _Family("Plumbing", "46.0503", ("NCCER", "OCIB", "CTTC"),
            ("Plumbing Level 1", "Plumbing Level 2", "Apprentice Plumber",
             "Drain, Waste and Vent")),
    _Family("Practical Nursing", "51.3901", ("OBN", "CTTC", "AHA"),
            ("Licensed Practical Nurse", "Pharmacology", "Medical-Surgical Nursing",
             "IV Therapy")),
    _Family("Health Careers Certification", "51.2601", ("OSDH", "AHA", "CTTC"),
            ("Certified Nurse Aide", "Home Health Aide", "Medication Aide",
             "Long-Term Care Aide", "Medical Terminology")),
    _Family("Medical Assisting", "51.0801", ("NHA", "CTTC"),
            ("Certified Clinical Medical Assistant", "Phlebotomy Technician",
             "EKG Technician", "Medical Administrative Assistant")),
    _Family("Pharmacy Technician", "51.0805", ("PTCB", "NHA", "CTTC"),
            ("Pharmacy Technician", "Sterile Compounding", "Pharmacy Calculations")),
    _Family("Emergency Medical Technician", "51.0904", ("NREMT", "AHA", "CTTC"),
            ("Emergency Medical Responder", "Emergency Medical Technician",
             "Advanced EMT")),
    _Family("Dental Assisting", "51.0601", ("DANB", "CTTC"),
            ("Radiation Health and Safety", "Infection Control", "Dental Assisting")),
    _Family("Cosmetology", "12.0401", ("OSBC", "CTTC"),
            ("Cosmetologist", "Barber", "Manicurist", "Facialist", "Cosmetology Theory")),
    _Family("Culinary Arts", "12.0500", ("SERVSF", "ACF", "CTTC"),
            ("ServSafe Food Handler", "ServSafe Manager", "Certified Fundamentals Cook",
             "Baking and Pastry")),
    _Family("Computer Networking", "11.0901", ("CMPTIA", "CISCO", "CTTC"),
            ("A+ Core 1", "A+ Core 2", "Network+", "CCNA", "Network Fundamentals")),
    _Family("Cybersecurity", "11.1003", ("CMPTIA", "CISCO", "ECC", "CTTC"),
            ("Security+", "CyberOps Associate", "Ethical Hacking Essentials",
             "Cybersecurity Fundamentals")),
    _Family("Programming and Software Development", "11.0201", ("CTTC", "CMPTIA"),
            ("Programming Fundamentals", "Java Programming", "Python Programming",
             "Web Development", "Database Fundamentals")),
    _Family("Business and Office Administration", "52.0401", ("MOS", "INTUIT", "CTTC"),
            ("Word Associate", "Excel Associate", "PowerPoint Associate",
             "Business Management", "Office Procedures")),
    _Family("Accounting", "52.0302", ("INTUIT", "MOS", "CTTC"),
            ("QuickBooks Certified User", "Accounting Fundamentals", "Payroll",
             "Excel Expert")),
    _Family("Graphic Design and Digital Media", "50.0409", ("ADOBE", "CTTC"),
            ("Photoshop", "Illustrator", "InDesign", "Premiere Pro", "Digital Media Design")),
    _Family("Early Care and Education", "19.0709", ("CDA", "CTTC"),
            ("Child Development Associate", "Early Childhood Foundations",
             "Infant and Toddler Care")),
    _Family("Criminal Justice", "43.0107", ("CLEET", "CTTC"),
            ("Unarmed Security Guard", "Armed Security Guard", "Criminal Justice Foundations",
             "Corrections Officer")),
    _Family("Fire Fighting", "43.0203", ("IFSAC", "CTTC"),
            ("Firefighter I", "Firefighter II", "Hazardous Materials Awareness",
             "Hazardous Materials Operations")),
    _Family("Commercial Truck Driving", "49.0205", ("DPS", "CTTC"),
            ("Commercial Learner Permit", "CDL Class A", "CDL Class B", "Hazmat Endorsement")),
    _Family("Aviation Maintenance", "47.0607", ("FAA", "CTTC"),
            ("General", "Airframe", "Powerplant", "Aviation Fundamentals")),
    _Family("Power Equipment Technology", "47.0606", ("EETC", "CTTC"),
            ("Two-Stroke Engines", "Four-Stroke Engines", "Electrical Systems",
             "Driveline and Hydraulics")),
    _Family("Pre-Engineering", "15.0000", ("PLTW", "AUTODK", "CTTC"),
            ("Introduction to Engineering Design", "Principles of Engineering",
             "AutoCAD Certified User", "Inventor Certified User", "Digital Electronics")),
)

# Credentials any program may cover: safety, first aid, work readiness.
_CROSS_CUTTING = (
    ("OSHA", "OSHA 10-Hour General Industry"),
    ("OSHA", "OSHA 10-Hour Construction"),
    ("AHA", "Heartsaver CPR AED"),
    ("AHA", "Heartsaver First Aid"),
    ("ACTWK", "National Career Readiness Certificate"),
    ("WIN", "Career Readiness Credential"),
    ("CTTC", "Employability Skills"),
)
_ASSESSMENTS_PER_FAMILY = 10
# The first few assessments of a family are always badgeable by the agency, so every
# program can produce eligible rows whatever the seed.
_ALWAYS_BADGEABLE = 3

_DISTRICTS = (
    "Autry", "Caddo Kiowa", "Canadian Valley", "Central", "Chisholm Trail",
    "Eastern Oklahoma County", "Francis Tuttle", "Gordon Cooper", "Great Plains",
    "Green Country", "High Plains", "Indian Capital", "Kiamichi", "Meridian", "Metro",
    "Mid-America", "Mid-Del", "Moore Norman", "Northeast", "Northwest", "Pioneer",
    "Pontotoc", "Red River", "Southern", "Southwest", "Tri County", "Tulsa", "Wes Watkins",
    "Western",
)
_TOWNS = (
    "Ada", "Afton", "Altus", "Alva", "Anadarko", "Antlers", "Ardmore", "Atoka", "Bartlesville",
    "Broken Arrow", "Burns Flat", "Chickasha", "Choctaw", "Claremore", "Clinton", "Drumright",
    "Duncan", "El Reno", "Elk City", "Enid", "Fairview", "Fort Cobb", "Frederick", "Goodwell",
    "Guthrie", "Guymon", "Hugo", "Idabel", "Jenks", "Kingfisher", "Lawton", "Madill",
    "McAlester", "Miami", "Midwest City", "Moore", "Muskogee", "Newcastle", "Norman",
    "Okmulgee", "Oklahoma City", "Owasso", "Pauls Valley", "Ponca City", "Poteau", "Pryor",
    "Sallisaw", "Sapulpa", "Sayre", "Seminole", "Shawnee", "Stigler", "Stillwater",
    "Stilwell", "Tahlequah", "Talihina", "Tishomingo", "Tulsa", "Wayne", "Weatherford",
    "Wetumka", "Wewoka", "Woodward", "Wynnewood", "Yukon",
)
_SITES = 60
_UNACCREDITED_SITES = 4
_PROGRAMS_PER_FAMILY = 5
_UNAPPROVED_PROGRAMS = 12

_FIRST_NAMES = (
    "Aiden", "Alyssa", "Andrés", "Angel", "Anaïs", "Ava", "Brayden", "Brianna", "Caleb",
    "Camila", "Carter", "Chloé", "Cody", "Dakota", "Daniela", "Destiny", "Diego", "Elijah",
    "Emma", "Ethan", "Evelyn", "Gabriel", "Grace", "Hailey", "Hunter", "Isaiah", "Jacob",
    "Jada", "Jasmine", "Jayden", "Jesús", "José", "Josiah", "Kaitlyn", "Kaylee", "Keanu",
    "Kimberly", "Landon", "Layla", "Liam", "Lily", "Logan", "Lucía", "Madison", "María",
    "Mary Kate", "Mason", "Mateo", "Mia", "Minh", "Naomi", "Nathan", "Nevaeh", "Nicolás",
    "Noah", "Noé", "Olivia", "Paisley", "Renée", "Riley", "Sage", "Samuel", "Savannah",
    "Sofía", "Taylor", "Thanh", "Trinity", "Tristan", "Tyler", "Wyatt", "Ximena", "Zoë",
    "Jo-Ann", "D'Andre", "Shi'Anne", "Bao", "Priya", "Hannah", "Cheyenne", "Wren",
)
_LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor",
    "Anderson", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris",
    "Clark", "Lewis", "Walker", "Hall", "Allen", "Young", "King", "Wright", "Scott", "Green",
    "Baker", "Adams", "Nelson", "Carter", "Mitchell", "Roberts", "Turner", "Phillips",
    "Campbell", "Parker", "Evans", "Edwards", "Collins", "Stewart", "Morris", "Murphy",
    "Cook", "Rogers", "García", "Rodríguez", "Martínez", "Hernández", "López", "González",
    "Pérez", "Sánchez", "Ramírez", "Gómez", "Jiménez", "Núñez", "Peña", "Muñoz", "Ibáñez",
    "Álvarez", "Gutiérrez", "De La Cruz", "O'Brien", "O'Neal", "O'Connor", "D'Amico",
    "McIntosh", "Nguyen", "Tran", "Pham", "Le", "Patel", "Kim", "Harjo", "Fixico",
    "Yahola", "Chupco", "Tiger", "Sixkiller", "Hummingbird", "Tehee", "Bushyhead",
    "Swimmer", "Ketcher", "Deerinwater", "Bearpaw", "Lookingglass", "Wolfe", "Proctor",
    "Goodvoice", "Washington", "Jefferson", "Freeman", "Haskell", "Whitehorse",
)
_PERSONAL_DOMAINS = ("example.com", "example.net", "example.org")


def _stream(seed: int, purpose: str) -> random.Random:
    """A generator of its own for one purpose, so that changing one never shifts another."""
    digest = hashlib.sha256(f"{seed}/{purpose}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


@cache
def _ascii(text: str) -> str:
    """Lower-case letters and digits only: José O'Brien-Núñez -> joseobriennunez."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


@dataclass
class _Reference:
    """The seed's fixed world, plus the lookups row generation needs."""

    sites: list[Site]
    programs: list[Program]
    assessments: list[Assessment]
    program_assessments: list[ProgramAssessment]
    badge_templates: list[BadgeTemplate]
    site_slug: dict[str, str]
    instructors: dict[str, list[str]]
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


def _person(rng: random.Random) -> tuple[str, str]:
    first = rng.choice(_FIRST_NAMES)
    last = rng.choice(_LAST_NAMES)
    if rng.random() < 0.05:
        # Hyphenated surnames: two families' names joined.
        last = f"{last}-{rng.choice(_LAST_NAMES)}"
    return first, last


def _make_sites(rng: random.Random) -> tuple[list[Site], dict[str, str]]:
    campuses = [1] * len(_DISTRICTS)
    while sum(campuses) < _SITES:
        district = rng.randrange(len(_DISTRICTS))
        if campuses[district] < 4:
            campuses[district] += 1
    towns = iter(rng.sample(_TOWNS, _SITES))
    district_numbers = rng.sample(range(1, 10_000), len(_DISTRICTS))
    unaccredited = set(rng.sample(range(_SITES), _UNACCREDITED_SITES))
    sites: list[Site] = []
    slugs: dict[str, str] = {}
    for district, count, number in zip(_DISTRICTS, campuses, district_numbers, strict=True):
        county = rng.randint(1, 77)
        for campus in range(1, count + 1):
            # County (2) + district (4) + campus (3): nine digits, leading zeros kept.
            code = f"{county:02d}{number:04d}{campus:03d}"
            town = next(towns)
            sites.append(Site(code, f"{district} Technology Center - {town} Campus",
                              len(sites) not in unaccredited))
            slugs[code] = _ascii(district)
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
        digits = _VENDORS[prefix][3]
        while True:
            code = f"{prefix}{rng.randrange(10**digits):0{digits}d}"
            if code not in taken:
                taken.add(code)
                return code

    assessments: list[Assessment] = []
    templates: list[BadgeTemplate] = []

    def add(prefix: str, name: str, *, always_badgeable: bool) -> str:
        vendor, credential_type, badges_share, _ = _VENDORS[prefix]
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
    for family in _FAMILIES:
        agency_vendors = [p for p in family.vendors if _VENDORS[p][2] < 1.0]
        codes = []
        for slot in range(_ASSESSMENTS_PER_FAMILY):
            topic = family.topics[slot % len(family.topics)]
            name = topic if slot < len(family.topics) else f"{topic} - Advanced"
            always = slot < _ALWAYS_BADGEABLE
            prefix = rng.choice(agency_vendors if always else family.vendors)
            codes.append(add(prefix, name, always_badgeable=always))
        by_family.append(codes)
    cross = [add(prefix, name, always_badgeable=False) for prefix, name in _CROSS_CUTTING]
    return assessments, by_family, cross, templates


def _make_programs(
    rng: random.Random, sites: list[Site], by_family: list[list[str]], cross: list[str],
) -> tuple[list[Program], list[ProgramAssessment]]:
    families = [f for f in range(len(_FAMILIES)) for _ in range(_PROGRAMS_PER_FAMILY)]
    rng.shuffle(families)
    # Every campus runs at least two programs; the rest go to campuses at random.
    site_slots = [s for s in sites for _ in range(2)]
    site_slots += rng.choices(sites, k=len(families) - len(site_slots))
    numbers = rng.sample(range(10_000, 100_000), len(families))
    unapproved = set(rng.sample(range(len(families)), _UNAPPROVED_PROGRAMS))
    programs: list[Program] = []
    links: list[ProgramAssessment] = []
    for index, (family_index, site, number) in enumerate(
            zip(families, site_slots, numbers, strict=True)):
        family = _FAMILIES[family_index]
        program = Program(f"P{number}", family.name, family.cip, site.site_code,
                          index not in unapproved)
        programs.append(program)
        own = by_family[family_index]
        covered = own[:_ALWAYS_BADGEABLE]
        covered += rng.sample(own[_ALWAYS_BADGEABLE:], rng.randint(2, 5))
        covered += rng.sample(cross, rng.randint(1, 3))
        links.extend(ProgramAssessment(program.program_code, code) for code in covered)
    return programs, links


def _make_instructors(rng: random.Random, sites: list[Site]) -> dict[str, list[str]]:
    logins: dict[str, list[str]] = {}
    for site in sites:
        names = (_person(rng) for _ in range(rng.randint(3, 7)))
        logins[site.site_code] = [f"{_ascii(first)[0]}{_ascii(last)}{site.site_code[-3:]}"
                                  for first, last in names]
    return logins


def _build_reference(seed: int) -> _Reference:
    rng = _stream(seed, "reference")
    sites, slugs = _make_sites(rng)
    assessments, by_family, cross, templates = _make_assessments(rng, seed)
    programs, links = _make_programs(rng, sites, by_family, cross)
    instructors = _make_instructors(rng, sites)
    return _Reference(sites, programs, assessments, links, templates, slugs, instructors)


# --- Real-Time rows -------------------------------------------------------------------

_MONTH_WEIGHT = {1: 0.8, 2: 0.9, 3: 1.0, 4: 1.7, 5: 2.0, 6: 1.1,
                 7: 0.25, 8: 0.45, 9: 0.7, 10: 0.9, 11: 0.95, 12: 1.5}
_WEEKDAY_WEIGHT = (1.0, 1.05, 1.05, 1.0, 0.85, 0.07, 0.03)
class _Weighted:
    """A fixed weighted choice, drawn with one random() (random.choices redoes the sums)."""

    def __init__(self, values: Sequence, weights: Sequence[float]) -> None:
        self.values = tuple(values)
        self.cumulative = list(accumulate(weights))

    def draw(self, rng: random.Random):
        return self.values[bisect(self.cumulative, rng.random() * self.cumulative[-1])]


# Days between testing and entry: weekly uploads put most within a week.
_ENTRY_LAG = _Weighted([timedelta(days=n) for n in range(11)],
                       (6, 5, 4, 3, 3, 2, 2, 2, 1, 1, 1))
_WORK_HOUR = _Weighted(range(7, 18), (2, 6, 9, 10, 8, 5, 8, 10, 9, 5, 2))
# Further rows a student collects after the first, if any.
_MORE_ROWS = _Weighted(range(5), (45, 25, 15, 10, 5))
_UNALIGNED_WAY = _Weighted(("not_covered", "late_enrollment", "unapproved_program",
                            "unaccredited_site", "not_enrolled"), (4, 2, 1, 1, 2))
_UPLOAD_LOGIN = "cttc.results.upload"


def _day_weight(day: date) -> float:
    weight = _MONTH_WEIGHT[day.month] * _WEEKDAY_WEIGHT[day.weekday()]
    if day.month == 6 and day.day >= 15:
        weight *= 2.2  # entries rushed in before the fiscal year closes on June 30
    if (day.month == 12 and day.day >= 22) or (day.month == 1 and day.day <= 2):
        weight *= 0.15  # winter break
    return weight


def _expected(category: str) -> str:
    return "eligible" if category == "eligible" else f"ineligible:{category}"


def _largest_remainder(total: int, shares: Sequence[tuple[str, float]]) -> dict[str, int]:
    """Split `total` by `shares` into whole counts that add up exactly."""
    exact = [(name, total * share) for name, share in shares]
    counts = {name: int(value) for name, value in exact}
    leftover = total - sum(counts.values())
    by_fraction = sorted(exact, key=lambda item: item[1] - int(item[1]), reverse=True)
    for name, _ in by_fraction[:leftover]:
        counts[name] += 1
    return counts


@dataclass(eq=False, slots=True)
class _Learner:
    """A student while rows are being made: what aligns for them and what they hold."""

    student_id: int
    first_name: str | None
    last_name: str | None
    email: str | None
    opt_out: bool
    # the program rows are entered under when no enrolled program aligns the assessment
    home: Program
    # assessment -> the enrolled program that covers it, valid from the learner's first row
    aligned: dict[str, Program]
    capacity: int
    used: set[str] = field(default_factory=set)


@dataclass(eq=False, slots=True)
class _Draft:
    """One Real-Time row before ids are assigned in entry order."""

    learner: _Learner
    assessment_code: str | None
    site_code: str | None
    program_code: str | None
    test_date: date | None
    entered_by: str
    entered_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    expected: str
    dirty_kind: str | None
    seq: int
    duplicate_of: _Draft | None = None
    certification_id: int = 0


class _RowBuilder:
    """Makes the students, enrollments and Real-Time rows of one seed."""

    def __init__(self, params: SeedParams, start_ids: IdStart, ref: _Reference) -> None:
        self.params = params
        self.ref = ref
        # The row stream also depends on where ids start, so a second seed with the same
        # parameters adds different students rather than copies of the first seed's.
        self.rng = _stream(params.seed, f"rows/{start_ids.student_id}/"
                                        f"{start_ids.certification_id}")
        self.next_student_id = start_ids.student_id
        self.first_certification_id = start_ids.certification_id
        self.range_end = datetime.combine(params.date_to, clock(23, 59, 59), CHICAGO)
        span = (params.date_to - params.date_from).days + 1
        self.days = [params.date_from + timedelta(days=n) for n in range(span)]
        self.cum_weights = list(accumulate(_day_weight(day) for day in self.days))
        self.learners: list[_Learner] = []
        self.enrollments: list[Enrollment] = []
        self.open: list[_Learner] = []
        self.seq = 0
        # What each program aligns, shared (read-only) by the students enrolled in it.
        self.aligned_by = {p.program_code: dict.fromkeys(ref.cover[p.program_code], p)
                           for p in ref.programs}
        self.programs_with: dict[str, list[Program]] = {
            category: [p for p in ref.good_programs
                       if any(self._fits_statically(category, code)
                              for code in ref.cover[p.program_code])]
            for category in ("eligible", "opted_out", "no_badge_template",
                             "before_program_launch")
        }

    # -- public -------------------------------------------------------------------------

    def build(self) -> tuple[list[Student], list[Enrollment], list[Certification], list[Truth]]:
        rng = self.rng
        total = self.params.rows
        dirty_total = min(total, int(total * self.params.dirty_rate + 0.5))
        dirty = self._dirty_counts(dirty_total)
        clean = _largest_remainder(total - dirty_total, CLEAN_MIX)
        duplicates = dirty.pop("duplicate", 0)
        slots = [(None, category) for category, n in clean.items() for _ in range(n)]
        slots += [(kind, None) for kind, n in dirty.items() for _ in range(n)]
        rng.shuffle(slots)
        drafts = []
        for at, (kind, category) in zip(self._entry_times(len(slots)), slots, strict=True):
            if kind is None:
                drafts.append(self._clean_row(at, category))
            else:
                drafts.append(self._dirty_row(at, kind))
            if len(drafts) % 2000 == 0:
                self._forget_closed_learners()
        made = self._duplicate_rows(drafts, duplicates)
        # Too few eligible rows to copy (tiny or all-dirty seeds): noise takes the slots.
        shortfall = duplicates - len(made)
        made += [self._dirty_row(at, "noise") for at in self._entry_times(shortfall)]
        drafts += made
        return self._finish(drafts)

    # -- row categories -----------------------------------------------------------------

    def _clean_row(self, at: datetime, category: str) -> _Draft:
        if category == "deleted":
            _, draft = self._place_first(at, "eligible")
            draft.deleted_at = draft.updated_at = self._later(at, max_days=5)
            draft.expected = "ineligible:deleted"
            return draft
        placed, draft = self._place_first(at, category)
        draft.expected = _expected(placed)
        self._maybe_correct(draft)
        return draft

    def _dirty_row(self, at: datetime, kind: str) -> _Draft:
        rng = self.rng
        test_date = self._test_date(at.date())
        # Under the defect, the row is what a clean row of that day would mostly be. Years
        # before the approved list began, that can only be a not-yet-effective assessment.
        preferred = "eligible" if test_date >= PROGRAM_LAUNCH else "before_program_launch"
        for base in (preferred, "assessment_not_effective"):
            # Defects in names and emails live on the student: a dirty row gets a student of
            # its own so no clean row shares the damage.
            found = self._new_learner_with(base, test_date, pooled=False)
            if found is not None:
                break
        else:
            raise AssertionError(f"no row at all can be built for {test_date}")
        learner, code = found
        draft = self._draft(at, learner, code, test_date)
        draft.dirty_kind = kind
        draft.expected = "quarantined"
        if kind == "missing_email":
            learner.email = None
        elif kind == "malformed_email":
            learner.email = _malformed_email(rng, learner.email or "")
        elif kind == "blank_name":
            blank = rng.choice((None, "", "   "))
            if rng.random() < 0.5:
                learner.first_name = blank
            else:
                learner.last_name = blank
        elif kind == "malformed_assessment_code":
            draft.assessment_code = _malformed_code(rng, code)
        elif kind == "null_test_date":
            draft.test_date = None
        elif kind == "future_test_date":
            # Two days or more, so it is after entry in UTC as well as in Chicago.
            draft.test_date = at.date() + timedelta(days=rng.randint(2, 45))
        elif kind == "impossible_test_date":
            draft.test_date = rng.choice((
                date(1900, 1, 1),
                date(test_date.year - 100, test_date.month, min(test_date.day, 28)),
                date(1999, 12, 31),
            ))
        elif kind == "bad_site_code":
            draft.site_code = _bad_site_code(rng, draft.site_code or "")
        elif kind == "unknown_assessment":
            draft.assessment_code = self._unknown_code()
            draft.expected = "ineligible:not_approved_assessment"
        elif kind == "noise":
            self._add_noise(draft)
            draft.expected = _expected(base)
        else:
            raise ValueError(f"unknown dirty kind {kind!r}")
        self._maybe_correct(draft)
        return draft

    def _duplicate_rows(self, drafts: list[_Draft], wanted: int) -> list[_Draft]:
        # Originals are never corrected later, so they reach the pipeline no later than
        # their duplicate does.
        originals = [d for d in drafts if d.expected == "eligible" and d.dirty_kind is None
                     and d.updated_at == d.entered_at]
        self.rng.shuffle(originals)
        made: list[_Draft] = []
        for original in originals:
            if len(made) == wanted:
                break
            at = self._reentry(original.entered_at)
            if at is None:
                continue
            copy = self._draft(at, original.learner, original.assessment_code,
                               original.test_date, site_code=original.site_code,
                               program_code=original.program_code)
            copy.expected = "duplicate"
            copy.dirty_kind = "duplicate"
            copy.duplicate_of = original
            made.append(copy)
        return made

    # -- choosing students and assessments ----------------------------------------------

    def _place_first(self, at: datetime, category: str) -> tuple[str, _Draft]:
        for candidate in (category, *_FALLBACK):
            draft = self._place(at, candidate)
            if draft is not None:
                return candidate, draft
        raise AssertionError(f"no outcome can be built for a row entered {at:%Y-%m-%d}")

    def _place(self, at: datetime, category: str) -> _Draft | None:
        day = at.date()
        if category == "before_program_launch" and day >= PROGRAM_LAUNCH:
            # Entered after the launch for a test taken before it: a retroactive entry.
            test_date = min(day, PROGRAM_LAUNCH - timedelta(days=self.rng.randint(1, 540)))
        else:
            test_date = self._test_date(day)
        if category == "no_aligned_program":
            return self._place_unaligned(at, test_date)
        if category in ("opted_out", "before_program_launch"):
            found = self._new_learner_with(category, test_date, pooled=True,
                                           opt_out=category == "opted_out")
        else:
            found = self._open_learner_with(category, test_date) or \
                self._new_learner_with(category, test_date, pooled=True)
        if found is None:
            return None
        learner, code = found
        return self._draft(at, learner, code, test_date)

    def _place_unaligned(self, at: datetime, test_date: date) -> _Draft | None:
        """A row no enrollment aligns, in one of the ways that happens."""
        rng = self.rng
        ref = self.ref
        way = _UNALIGNED_WAY.draw(rng)
        if way == "not_covered":
            found = self._open_learner_with("no_aligned_program", test_date) or \
                self._new_learner_with("no_aligned_program", test_date, pooled=True)
            if found is None:
                return None
            learner, code = found
            return self._draft(at, learner, code, test_date)
        choices = {"late_enrollment": ref.good_programs, "not_enrolled": ref.good_programs,
                   "unapproved_program": ref.unapproved_programs,
                   "unaccredited_site": ref.unaccredited_programs}[way]
        for program in rng.sample(choices, min(6, len(choices))):
            codes = [c for c in ref.cover[program.program_code]
                     if not ref.vendor_badged(c) and ref.effective(c, test_date)]
            if not codes:
                continue
            if way == "late_enrollment":
                start = test_date + timedelta(days=rng.randint(1, 150))
            else:
                start = self._start_before(test_date)
            enrolled = [] if way == "not_enrolled" else [(program, start)]
            learner = self._new_learner(enrolled, {}, home=program, opt_out=False,
                                        pooled=False)
            code = rng.choice(codes)
            learner.used.add(code)
            return self._draft(at, learner, code, test_date)
        return None

    def _candidates(self, category: str, learner_aligned: dict[str, Program], used: set[str],
                    test_date: date) -> list[str]:
        ref = self.ref
        fresh = [c for c in learner_aligned if c not in used]
        if category in ("eligible", "opted_out", "no_badge_template"):
            if test_date < PROGRAM_LAUNCH:
                return []
            want_template = category != "no_badge_template"
            return [c for c in fresh if not ref.vendor_badged(c) and ref.effective(c, test_date)
                    and (c in ref.active_template) == want_template]
        if category == "before_program_launch":
            if test_date >= PROGRAM_LAUNCH:
                return []
            return [c for c in fresh if not ref.vendor_badged(c) and ref.effective(c, test_date)]
        if category == "vendor_badge":
            own = [c for c in fresh if ref.vendor_badged(c) and ref.effective(c, test_date)]
            return own or [c for c in ref.vendor_codes if c not in used
                           and ref.effective(c, test_date)]
        if category == "assessment_not_effective":
            own = [c for c in fresh if not ref.effective(c, test_date)]
            return own or [c for c in ref.by_code if c not in used
                           and not ref.effective(c, test_date)]
        if category == "no_aligned_program":
            return [c for c in ref.agency_codes if c not in learner_aligned and c not in used
                    and ref.effective(c, test_date)]
        raise ValueError(f"unknown category {category!r}")

    def _fits_statically(self, category: str, code: str) -> bool:
        """Could `code` ever carry `category` for a student whose program covers it."""
        if self.ref.vendor_badged(code):
            return False
        if category == "no_badge_template":
            return code not in self.ref.active_template
        if category in ("eligible", "opted_out"):
            return code in self.ref.active_template
        return True

    def _open_learner_with(self, category: str, test_date: date) -> tuple[_Learner, str] | None:
        """Maybe give the row to a recent student who has room for another credential."""
        rng = self.rng
        if not self.open or rng.random() < 0.4:
            return None
        learner = self.open[rng.randrange(max(0, len(self.open) - 400), len(self.open))]
        if learner.capacity <= 0 or (learner.opt_out and category == "eligible"):
            return None
        codes = self._candidates(category, learner.aligned, learner.used, test_date)
        if not codes:
            return None
        learner.capacity -= 1
        code = rng.choice(codes)
        learner.used.add(code)
        return learner, code

    def _new_learner_with(self, category: str, test_date: date, *, pooled: bool,
                          opt_out: bool = False) -> tuple[_Learner, str] | None:
        """A new student, enrolled in a program that lets the row have `category`."""
        rng = self.rng
        programs = self.programs_with.get(category, self.ref.good_programs)
        for _ in range(8):
            home = rng.choice(programs)
            aligned = self.aligned_by[home.program_code]
            # Some students finished an earlier program before this one.
            earlier = rng.choice(self.ref.good_programs) if rng.random() < 0.1 else home
            if earlier != home:
                aligned = {**self.aligned_by[earlier.program_code], **aligned}
            codes = self._candidates(category, aligned, set(), test_date)
            if not codes:
                continue
            enrolled = [(home, self._start_before(test_date))]
            if earlier != home:
                enrolled.insert(0, (earlier, enrolled[0][1] - timedelta(
                    days=rng.randint(200, 700))))
            learner = self._new_learner(enrolled, aligned, home=home, opt_out=opt_out,
                                        pooled=pooled)
            code = rng.choice(codes)
            learner.used.add(code)
            return learner, code
        return None

    def _new_learner(self, enrolled: list[tuple[Program, date]], aligned: dict[str, Program],
                     *, home: Program, opt_out: bool, pooled: bool) -> _Learner:
        rng = self.rng
        student_id = self.next_student_id
        # Gaps, as ids handed out statewide would have; ids stay increasing.
        self.next_student_id += rng.randint(1, 3)
        first, last = _person(rng)
        email = _email(rng, first, last, student_id, self.ref.site_slug[home.site_code])
        for index, (program, start) in enumerate(enrolled):
            finished = index < len(enrolled) - 1 or rng.random() < 0.5
            end = start + timedelta(days=rng.randint(270, 700)) if finished else None
            self.enrollments.append(Enrollment(student_id, program.program_code, start, end))
        # Credentials stack: a student may collect several over the following months.
        capacity = _MORE_ROWS.draw(rng)
        learner = _Learner(student_id, first, last, email, opt_out, home, aligned,
                           capacity if pooled else 0)
        self.learners.append(learner)
        if pooled and capacity:
            self.open.append(learner)
        return learner

    def _forget_closed_learners(self) -> None:
        self.open = [learner for learner in self.open[-2000:] if learner.capacity > 0]

    # -- dates and values ---------------------------------------------------------------

    def _entry_times(self, count: int) -> list[datetime]:
        rng = self.rng
        days = rng.choices(self.days, cum_weights=self.cum_weights, k=count)
        stamps = sorted((day, self._second_of_day()) for day in days)
        return [datetime.combine(day, clock(s // 3600, s // 60 % 60, s % 60), CHICAGO)
                for day, s in stamps]

    def _second_of_day(self) -> int:
        rng = self.rng
        roll = rng.random()
        if roll < 0.008:
            # Just before midnight: these reach the replica after their day's run.
            return 23 * 3600 + 50 * 60 + rng.randrange(600)
        if roll < 0.04:
            return rng.randint(18, 21) * 3600 + rng.randrange(3600)
        return _WORK_HOUR.draw(rng) * 3600 + rng.randrange(3600)

    def _test_date(self, entered: date) -> date:
        return entered - _ENTRY_LAG.draw(self.rng)

    def _start_before(self, test_date: date) -> date:
        """An enrollment start at least a month before the first test."""
        rng = self.rng
        latest = test_date - timedelta(days=30)
        if rng.random() < 0.7:
            # Most students start with the school year in August.
            year = latest.year if latest >= date(latest.year, 8, 25) else latest.year - 1
            return date(year - rng.choice((0, 0, 1)), 8, rng.randint(10, 25))
        return latest - timedelta(days=rng.randint(0, 400))

    def _later(self, at: datetime, *, max_days: int) -> datetime:
        """A moment a few days after `at`, never past the seeded range."""
        rng = self.rng
        day = min(at.date() + timedelta(days=rng.randint(1, max_days)), self.params.date_to)
        moment = datetime.combine(day, clock(rng.randint(8, 16), rng.randrange(60)), CHICAGO)
        if moment <= at:
            moment = min(at + timedelta(minutes=rng.randint(5, 120)), self.range_end)
        return max(moment, at)

    def _reentry(self, at: datetime) -> datetime | None:
        """When the same certification is entered again: later that day or within days."""
        rng = self.rng
        same_day = at + timedelta(minutes=rng.randint(3, 240))
        later_day = at.date() + timedelta(days=rng.randint(1, 4))
        options = [same_day if same_day.date() == at.date() and same_day <= self.range_end
                   else None,
                   datetime.combine(later_day, clock(rng.randint(8, 16), rng.randrange(60)),
                                    CHICAGO) if later_day <= self.params.date_to else None]
        if rng.random() < 0.4:
            options.reverse()
        return next((option for option in options if option is not None), None)

    def _maybe_correct(self, draft: _Draft) -> None:
        if self.rng.random() < 0.05:
            draft.updated_at = self._later(draft.entered_at, max_days=5)

    def _draft(self, at: datetime, learner: _Learner, code: str | None, test_date: date | None,
               *, site_code: str | None = None, program_code: str | None = None) -> _Draft:
        program = learner.aligned.get(code or "") or learner.home
        site = site_code or program.site_code
        entered_by = _UPLOAD_LOGIN if self.rng.random() < 0.08 else \
            self.rng.choice(self.ref.instructors[program.site_code])
        self.seq += 1
        return _Draft(learner, code, site, program_code or program.program_code, test_date,
                      entered_by, at, at, None, "", None, self.seq)

    def _unknown_code(self) -> str:
        """Well formed, plausible, and on no approved list."""
        rng = self.rng
        while True:
            prefix = rng.choice(tuple(_VENDORS))
            digits = _VENDORS[prefix][3]
            code = f"{prefix}{rng.randrange(10**digits):0{digits}d}"
            if code not in self.ref.by_code:
                return code

    def _add_noise(self, draft: _Draft) -> None:
        """Stray spaces and case that the extract's normalisation removes."""
        rng = self.rng
        learner = draft.learner
        for target in rng.sample(("code", "site", "email", "name"), rng.randint(1, 2)):
            if target == "code" and draft.assessment_code:
                code = draft.assessment_code
                draft.assessment_code = rng.choice((code.lower(), code.title(), f" {code}  ",
                                                    f"{code.lower()} "))
            elif target == "site" and draft.site_code:
                draft.site_code = rng.choice((f" {draft.site_code}", f"{draft.site_code}  "))
            elif target == "email" and learner.email:
                local, domain = learner.email.split("@")
                learner.email = rng.choice((f" {learner.email} ", f"{local.title()}@{domain}",
                                            f"{learner.email.upper()}  "))
            elif target == "name" and learner.first_name and learner.last_name:
                learner.first_name = f"  {learner.first_name}"
                learner.last_name = f"{learner.last_name} "

    def _dirty_counts(self, total: int) -> dict[str, int]:
        """Dirty rows split evenly over the kinds; the odd ones to kinds drawn at random."""
        base, extra = divmod(total, len(DIRTY_KINDS))
        counts = dict.fromkeys(DIRTY_KINDS, base)
        for kind in self.rng.sample(DIRTY_KINDS, extra):
            counts[kind] += 1
        return counts

    def _finish(
        self, drafts: list[_Draft],
    ) -> tuple[list[Student], list[Enrollment], list[Certification], list[Truth]]:
        drafts.sort(key=lambda d: (d.entered_at, d.seq))
        certifications: list[Certification] = []
        truth: list[Truth] = []
        for certification_id, draft in enumerate(drafts, start=self.first_certification_id):
            draft.certification_id = certification_id
            certifications.append(Certification(
                certification_id, draft.learner.student_id, draft.assessment_code,
                draft.site_code, draft.program_code, draft.test_date, draft.entered_by,
                draft.entered_at, draft.updated_at, draft.deleted_at))
            original = draft.duplicate_of
            truth.append(Truth(certification_id, draft.expected, draft.dirty_kind,
                               original.certification_id if original else None))
        students = [Student(le.student_id, le.first_name, le.last_name, le.email, le.opt_out)
                    for le in self.learners]
        return students, self.enrollments, certifications, truth


def _email(rng: random.Random, first: str, last: str, student_id: int, slug: str) -> str:
    """Unique through the student id; reserved example domains, so nothing reaches a real inbox."""
    first_part, last_part = _ascii(first) or "student", _ascii(last) or "learner"
    if rng.random() < 0.6:
        return f"{first_part[0]}{last_part}{student_id}@students.{slug}.example.org"
    return f"{first_part}.{last_part}.{student_id}@{rng.choice(_PERSONAL_DOMAINS)}"


def _malformed_email(rng: random.Random, email: str) -> str:
    local, domain = email.split("@")
    return rng.choice((
        f"{local}.{domain}",          # no @
        f"{local}@",                  # no domain
        f"{local[:3]} {local[3:]}@{domain}",  # a space inside
    ))


def _malformed_code(rng: random.Random, code: str) -> str:
    match = ASSESSMENT_CODE.match(code)
    if match is None:
        raise ValueError(f"not a well-formed code: {code!r}")
    prefix, digits = match.groups()
    options = [f"{prefix}-{digits}", f"{prefix} {digits}", digits,
               f"{prefix}{digits}{'1' * (7 - len(digits))}"]
    zero = digits.find("0", 1)
    if zero > 0:
        # Letter O for zero; never the first digit, which would just lengthen the prefix.
        options.append(f"{prefix}{digits[:zero]}O{digits[zero + 1:]}")
    return rng.choice(options)


def _bad_site_code(rng: random.Random, site_code: str) -> str:
    return rng.choice((
        site_code.lstrip("0") if site_code.startswith("0") else site_code[:-1],
        f"{site_code}{rng.randrange(10)}",
        f"{site_code[:2]}-{site_code[2:6]}-{site_code[6:]}",
        f"{site_code[:2]}I{site_code[3:]}",
        "",
    ))


# --- the two layers --------------------------------------------------------------------

def generate(params: SeedParams, *, start_ids: IdStart | None = None) -> Dataset:
    """Build one seed's data in memory; the same params and start ids give the same data."""
    ref = _build_reference(params.seed)
    students, enrollments, certifications, truth = _RowBuilder(
        params, start_ids or IdStart(), ref).build()
    return Dataset(
        sites=tuple(ref.sites),
        programs=tuple(ref.programs),
        approved_assessments=tuple(ref.assessments),
        program_assessments=tuple(ref.program_assessments),
        badge_templates=tuple(ref.badge_templates),
        students=tuple(students),
        enrollments=tuple(enrollments),
        certifications=tuple(certifications),
        truth=tuple(truth),
    )


# Reference tables may already hold this seed's rows: they are merged, not appended.
_CTIMS_REFERENCE = (("ctims", "sites", "sites"), ("ctims", "programs", "programs"),
                    ("ctims", "approved_assessments", "approved_assessments"),
                    ("ctims", "program_assessments", "program_assessments"))
_CTIMS_NEW = (("ctims", "students", "students"), ("ctims", "enrollments", "enrollments"),
              ("ctims", "realtime_certifications", "certifications"),
              ("devstack", "seed_truth", "truth"))


def _columns(records: Sequence[tuple]) -> sql.Composed:
    fields = type(records[0])._fields
    return sql.SQL(", ").join(sql.Identifier(name) for name in fields)


def _copy(cur: psycopg.Cursor, target: sql.Composable, records: Sequence[tuple]) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(target, _columns(records))
    with cur.copy(statement) as copy:
        for record in records:
            copy.write_row(record)


def _merge(cur: psycopg.Cursor, schema: str, table: str, records: Sequence[tuple]) -> int:
    """Insert the records the table lacks (ON CONFLICT DO NOTHING); return how many."""
    if not records:
        return 0
    target = sql.Identifier(schema, table)
    staging = sql.Identifier(f"seed_{table}")
    cur.execute(sql.SQL("CREATE TEMP TABLE {} (LIKE {}) ON COMMIT DROP").format(staging, target))
    _copy(cur, staging, records)
    cur.execute(sql.SQL("INSERT INTO {} ({cols}) SELECT {cols} FROM {} ON CONFLICT DO NOTHING")
                .format(target, staging, cols=_columns(records)))
    return cur.rowcount


def write(dataset: Dataset, ctims_conn: psycopg.Connection,
          badging_conn: psycopg.Connection) -> dict[str, int]:
    """Write a dataset: CTIMS tables and the truth in one database, templates in the other.

    Each database is written in one transaction, committed here on an autocommit or idle
    connection (inside a transaction the caller already opened, it is a savepoint and the
    caller commits). New students, enrollments and rows are COPYed as they are: a key
    clash means the start ids were wrong, and fails loudly.

    Returns:
        Rows inserted per table, as "schema.table".
    """
    inserted: dict[str, int] = {}
    with ctims_conn.transaction(), ctims_conn.cursor() as cur:
        cur.execute(_TRUTH_DDL.read_text())
        for schema, table, attribute in _CTIMS_REFERENCE:
            inserted[f"{schema}.{table}"] = _merge(cur, schema, table,
                                                   getattr(dataset, attribute))
        for schema, table, attribute in _CTIMS_NEW:
            records = getattr(dataset, attribute)
            if records:
                _copy(cur, sql.Identifier(schema, table), records)
            inserted[f"{schema}.{table}"] = len(records)
    with badging_conn.transaction(), badging_conn.cursor() as cur:
        inserted["badging.badge_templates"] = _merge(cur, "badging", "badge_templates",
                                                     dataset.badge_templates)
    return inserted


def next_ids(ctims_conn: psycopg.Connection) -> IdStart:
    """The ids after the largest already in CTIMS (students and Real-Time rows)."""
    row = ctims_conn.execute(
        """
        SELECT greatest((SELECT max(student_id) FROM ctims.students),
                        (SELECT max(student_id) FROM ctims.realtime_certifications)),
               (SELECT max(certification_id) FROM ctims.realtime_certifications)
        """
    ).fetchone()
    student, certification = row if row else (None, None)
    return IdStart(student_id=student + 1 if student else STUDENT_ID_START,
                   certification_id=certification + 1 if certification else 1)


def has_certifications(ctims_dsn: str, entered_from: date | None = None,
                       entered_to: date | None = None) -> bool:
    """Whether CTIMS holds Real-Time rows (entered in that range of Chicago days, if given)."""
    with psycopg.connect(ctims_dsn, autocommit=True) as conn:
        row = conn.execute(
            """
            SELECT EXISTS (
                SELECT 1 FROM ctims.realtime_certifications
                WHERE (%(from)s::date IS NULL
                       OR (entered_at AT TIME ZONE 'America/Chicago')::date >= %(from)s)
                  AND (%(to)s::date IS NULL
                       OR (entered_at AT TIME ZONE 'America/Chicago')::date <= %(to)s))
            """, {"from": entered_from, "to": entered_to}).fetchone()
    return bool(row and row[0])


@dataclass(frozen=True)
class SeedReport:
    """Counts only: no names, emails or student ids."""

    params: SeedParams
    start_ids: IdStart
    inserted: dict[str, int]
    expected: dict[str, int]
    dirty_kinds: dict[str, int]
    generate_seconds: float
    write_seconds: float

    def __str__(self) -> str:
        rows = self.inserted.get("ctims.realtime_certifications", 0)
        last_id = self.start_ids.certification_id + rows - 1
        lines = [
            f"{rows} Real-Time rows entered {self.params.date_from}..{self.params.date_to} "
            f"(seed {self.params.seed}, dirty rate {self.params.dirty_rate:g}, "
            f"certification ids {self.start_ids.certification_id}..{last_id}) "
            f"in {self.generate_seconds:.1f}s + {self.write_seconds:.1f}s",
            "  inserted: " + ", ".join(f"{table} {n}" for table, n in self.inserted.items()),
            "  expected: " + ", ".join(f"{name} {n}" for name, n in self.expected.items()),
            "  dirty:    " + (", ".join(f"{name} {n}" for name, n in self.dirty_kinds.items())
                              or "none"),
        ]
        return "\n".join(lines)


def summarise(dataset: Dataset) -> tuple[dict[str, int], dict[str, int]]:
    """Rows per expected outcome and per dirty kind, largest first."""
    expected = Counter(t.expected for t in dataset.truth)
    dirty = Counter(t.dirty_kind for t in dataset.truth if t.dirty_kind)
    return dict(expected.most_common()), dict(dirty.most_common())


def run_seed(params: SeedParams, ctims_dsn: str, badging_dsn: str) -> SeedReport:
    """Generate a seed after the ids already in CTIMS and write it to both databases."""
    with psycopg.connect(ctims_dsn, autocommit=True) as ctims_conn, \
            psycopg.connect(badging_dsn, autocommit=True) as badging_conn:
        start_ids = next_ids(ctims_conn)
        started = time.perf_counter()
        dataset = generate(params, start_ids=start_ids)
        generated = time.perf_counter()
        inserted = write(dataset, ctims_conn, badging_conn)
        written = time.perf_counter()
    expected, dirty = summarise(dataset)
    return SeedReport(params, start_ids, inserted, expected, dirty,
                      generated - started, written - generated)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m devstack.seed --from … --to … --rows N --ctims-dsn … --badging-dsn …`."""
    parser = argparse.ArgumentParser(prog="python -m devstack.seed", description=__doc__)
    parser.add_argument("--from", dest="date_from", type=date.fromisoformat, required=True)
    parser.add_argument("--to", dest="date_to", type=date.fromisoformat, required=True)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--dirty-rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ctims-dsn", required=True)
    parser.add_argument("--badging-dsn", required=True)
    args = parser.parse_args(argv)
    try:
        params = SeedParams(args.date_from, args.date_to, args.rows, args.dirty_rate, args.seed)
    except ValueError as error:
        parser.error(str(error))
    print(run_seed(params, args.ctims_dsn, args.badging_dsn))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
