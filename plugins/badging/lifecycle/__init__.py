"""A badge's life after issuance (docs/lifecycle.md): the nightly check (check.py) under the
source guard (guard.py), whom a badge should name (recipients.py), and the executor that
revokes, replaces and moves in Credly (revocation.py)."""
