"""Migration checksums: a comment correction listed in EARLIER_CHECKSUMS, nothing else."""

from __future__ import annotations

from badging.core import migrations, sql


def test_the_statements_digest_ignores_comments_and_spacing_only():
    text = "CREATE TABLE t (a text DEFAULT '--x'); -- why\n"
    same = "-- a new comment\nCREATE TABLE t (a   text\n  DEFAULT '--x');\n"
    assert migrations.statements_digest(text) == migrations.statements_digest(same)
    for changed in ("CREATE TABLE t (a text DEFAULT '--y');",
                    "CREATE TABLE t (a text DEFAULT '-- x');",
                    "CREATE TABLE t (b text DEFAULT '--x');"):
        assert migrations.statements_digest(changed) != migrations.statements_digest(text)


def test_every_earlier_checksum_still_matches_its_file_statements():
    # The listing holds only while the file's statements are the ones the earlier text had.
    assert migrations.EARLIER_CHECKSUMS
    for (component, name), earlier in migrations.EARLIER_CHECKSUMS.items():
        assert name in migrations.migration_names(component)
        digest = migrations.statements_digest(sql.load(f"core/migrations/{component}/{name}"))
        for checksum, statements in earlier.items():
            assert len(checksum) == 64
            assert statements == digest, f"{component}/{name}: a statement changed"
