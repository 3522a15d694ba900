"""The core every stage shares: the vocabulary, errors, database and SQL access, migrations,
the run and its policy, the clock, the one lease, the audit log, who a badge names."""
