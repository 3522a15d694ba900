"""The executor's preload covers what the task bodies import lazily (badging.airflow.preload)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import badging
from badging.airflow import preload

PACKAGE = Path(badging.__file__).parent
# Imported lazily for weight or to break a cycle: what a task process would import late.
LATE = ("badging", "pandas", "great_expectations", "fsspec")


def _imported_in_functions(path: Path) -> set[str]:
    names: set[str] = set()
    for function in ast.walk(ast.parse(path.read_text())):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
    return {name for name in names if name.split(".")[0] in LATE}


def test_every_late_import_of_the_task_side_is_loaded_by_the_preload():
    # The console runs in the API server, not in a task: its late imports are its own.
    late = set().union(*(_imported_in_functions(path) for path in PACKAGE.rglob("*.py")
                         if "console" not in path.relative_to(PACKAGE).parts))
    assert "great_expectations" in late
    assert "badging.pipeline.validate" in late
    # A fresh interpreter: this one has imported half of them already.
    loaded = json.loads(subprocess.run(
        [sys.executable, "-c", "import json, sys; from badging.airflow.preload import preload;"
         " preload(); print(json.dumps(sorted(sys.modules)))"],
        check=True, capture_output=True, text=True).stdout.splitlines()[-1])
    assert sorted(late - set(loaded)) == []


def test_a_module_that_fails_to_import_does_not_stop_the_scheduler(monkeypatch, caplog):
    monkeypatch.setattr(preload, "MODULES", ("badging.no_such_module",))
    preload.preload()
    assert "could not preload badging.no_such_module: ModuleNotFoundError" in caplog.text
