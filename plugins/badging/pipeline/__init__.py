"""The daily pipeline, one module per task of the DAG: extract, validate, eligibility,
plan, issue, report."""
