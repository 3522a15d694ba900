"""Values as real entry gets them wrong: emails, assessment codes, site codes."""

from __future__ import annotations

import random
from collections.abc import Container

from devstack.seed.records import ASSESSMENT_CODE
from devstack.seed.reference import ascii_letters
from devstack.seed.vocabulary import PERSONAL_DOMAINS, VENDORS


def email_address(rng: random.Random, first: str, last: str, student_id: int, slug: str) -> str:
    """Unique through the student id; reserved example domains, so nothing reaches a real inbox."""
    first_part, last_part = ascii_letters(first) or "student", ascii_letters(last) or "learner"
    if rng.random() < 0.6:
        return f"{first_part[0]}{last_part}{student_id}@students.{slug}.example.org"
    return f"{first_part}.{last_part}.{student_id}@{rng.choice(PERSONAL_DOMAINS)}"


def malformed_email(rng: random.Random, email: str) -> str:
    local, domain = email.split("@")
    return rng.choice((
        f"{local}.{domain}",          # no @
        f"{local}@",                  # no domain
        f"{local[:3]} {local[3:]}@{domain}",  # a space inside
    ))


def malformed_code(rng: random.Random, code: str) -> str:
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


def bad_site_code(rng: random.Random, site_code: str) -> str:
    return rng.choice((
        site_code.lstrip("0") if site_code.startswith("0") else site_code[:-1],
        f"{site_code}{rng.randrange(10)}",
        f"{site_code[:2]}-{site_code[2:6]}-{site_code[6:]}",
        f"{site_code[:2]}I{site_code[3:]}",
        "",
    ))



def unknown_code(rng: random.Random, approved: Container[str]) -> str:
    """Well formed, plausible, and on no approved list."""
    while True:
        prefix = rng.choice(tuple(VENDORS))
        digits = VENDORS[prefix][3]
        code = f"{prefix}{rng.randrange(10**digits):0{digits}d}"
        if code not in approved:
            return code
