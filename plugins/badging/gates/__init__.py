"""The approval gates an operator answers in the Airflow UI: the volume gate and the
revocation gate (docs/gates.md)."""
