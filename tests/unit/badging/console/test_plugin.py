"""The console plugin imports cheaply: Airflow loads it in every component."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PLUGINS = Path(__file__).resolve().parents[4] / "plugins"


def test_importing_the_plugin_builds_no_app_and_imports_no_database_driver():
    probe = (f"import sys; sys.path.insert(0, {str(PLUGINS)!r}); import badging_console as p; "
             "assert p.BadgingConsolePlugin.fastapi_apps[0]['app']._app is None; "
             "heavy = {'fastapi', 'psycopg', 'badging.console.app'} & set(sys.modules); "
             "assert not heavy, sorted(heavy)")
    subprocess.run([sys.executable, "-c", probe], check=True)


def test_airflow_loads_only_the_plugin_files_from_plugins(tmp_path):
    # Without plugins/.airflowignore, Airflow imports every plugins/badging/*.py as a
    # top-level module in each component (Great Expectations included: seconds per start).
    probe = ("import sys; from airflow import plugins_manager as m; "
             "found, errors = m._get_plugins(); "
             "assert sorted(p.name for p in found) == ['badging_console', 'badging_deadline'], "
             "found; "
             "assert not errors, errors; "
             "loaded = {'tasks', 'validate', 'great_expectations'} & set(sys.modules); "
             "assert not loaded, sorted(loaded)")
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__PLUGINS_FOLDER":
           str(PLUGINS), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    subprocess.run([sys.executable, "-c", probe], check=True, env=env)
