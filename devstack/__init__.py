"""Local-only tooling: embedded Postgres, synthetic CTIMS data, the Credly sandbox."""
