"""Outcomes for the agency: what the badges became, kept by the report task (docs/outcomes.md)."""
