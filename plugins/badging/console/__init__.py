"""The operator console: the Badging page inside the Airflow UI (docs/console.md)."""
