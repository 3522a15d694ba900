"""Local-only tooling: embedded Postgres, synthetic CTIMS data, the Credly sandbox."""

import sys
from pathlib import Path

# The pipeline package lives in plugins/ (Airflow puts it on sys.path); devstack drives it too.
_PLUGINS = str(Path(__file__).resolve().parents[1] / "plugins")
if _PLUGINS not in sys.path:
    sys.path.insert(0, _PLUGINS)
