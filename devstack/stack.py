"""The local stack: embedded Postgres, the Credly sandbox, an SMTP sink, and Airflow's env file."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shlex
import signal
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from devstack.errors import DevstackError
from devstack.ports import port_in_use
from devstack.postgres import EmbeddedPostgres

if TYPE_CHECKING:
    from devstack.credly_sandbox.control import SandboxControl
    from devstack.seed import SeedParams, SeedReport

REPO = Path(__file__).resolve().parents[1]
DATABASES = ("ctims", "badging", "airflow")
# Everything the DAG's runs write in badging_db (not the seeded templates and site contacts,
# nor the migrations' bookkeeping): what the tests and the bench empty between runs, in one
# TRUNCATE (the audit log refuses DELETE row by row; TRUNCATE is the deliberate reset).
RUN_TABLES = ("badging.run_batch", "badging.issuance", "badging.staged_certification",
              "badging.quarantine", "badging.run_summary", "badging.dq_result",
              "badging.dq_row_warning", "badging.approval", "badging.site_list",
              "badging.task_failure", "badging.revocation", "badging.badge_check",
              "badging.credly_sync", "badging.badge_finding", "badging.lease",
              "badging.check_snapshot", "badging.credly_template",
              "badging.volume_judgement", "badging.audit_log",
              # The report's outcome figures and copies (docs/outcomes.md, migration 014).
              "badging.outcome_dirty", "badging.outcome_badge", "badging.outcome_summary",
              "badging.outcome_refresh", "badging.outcome_held", "badging.entry_author",
              "badging.template_finding", "badging.credly_health", "badging.ctims_site",
              "badging.ctims_program", "badging.ctims_assessment")


@dataclass(frozen=True)
class StackPaths:
    """Where one stack keeps its state; tests make their own under a temp dir."""

    root: Path

    @property
    def pgdata(self) -> Path:
        return self.root / "pg"

    @property
    def airflow_home(self) -> Path:
        return self.root / "airflow"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def mail(self) -> Path:
        """Every message the SMTP sink accepted, one .eml file each."""
        return self.root / "mail"

    @property
    def sandbox_state(self) -> Path:
        return self.root / "credly_sandbox.sqlite"

    @property
    def secrets_file(self) -> Path:
        return self.root / "secrets.json"

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def env_file(self) -> Path:
        return self.root / "env"


DEFAULT_PATHS = StackPaths(REPO / ".devstack")


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def _write_private(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o600)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def local_secrets(paths: StackPaths) -> dict:
    """The sandbox token, org id and earner-id key: made on first use, never committed."""
    found = _read_json(paths.secrets_file)
    if not found:
        found = {
            "credly_token": secrets.token_urlsafe(24),
            "credly_org_id": str(uuid.uuid4()),
            "earner_id_secret": secrets.token_urlsafe(32),
        }
        paths.root.mkdir(parents=True, exist_ok=True)
        _write_private(paths.secrets_file, json.dumps(found, indent=2))
    return found


@dataclass
class Stack:
    """The running pieces of one local stack."""

    paths: StackPaths
    pg_port: int
    sandbox_port: int
    smtp_port: int = 8025

    @classmethod
    def configured(cls, paths: StackPaths = DEFAULT_PATHS) -> Stack:
        """Ports from DEVSTACK_PG_PORT / DEVSTACK_SANDBOX_PORT / DEVSTACK_SMTP_PORT, else from
        the last `up`, else the defaults (54329, 8765, 8025)."""
        state = _read_json(paths.state_file)
        return cls(
            paths=paths,
            pg_port=int(os.environ.get("DEVSTACK_PG_PORT") or state.get("pg_port") or 54329),
            sandbox_port=int(os.environ.get("DEVSTACK_SANDBOX_PORT")
                             or state.get("sandbox_port") or 8765),
            smtp_port=int(os.environ.get("DEVSTACK_SMTP_PORT") or state.get("smtp_port") or 8025),
        )

    @property
    def postgres(self) -> EmbeddedPostgres:
        return EmbeddedPostgres(self.paths.pgdata, self.pg_port)

    def dsn(self, database: str, user: str = "postgres") -> str:
        return self.postgres.dsn(database, user)

    @property
    def sandbox_base_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}/v1"

    def up(self) -> list[str]:
        """Start what is not running, migrate, and write the env file. Returns what it did."""
        from badging.core import migrations

        did = []
        self.paths.root.mkdir(parents=True, exist_ok=True)
        self.paths.reports.mkdir(exist_ok=True)
        self.paths.airflow_home.mkdir(exist_ok=True)
        pg = self.postgres
        if not pg.running():
            pg.start()
            did.append(f"postgres started on 127.0.0.1:{self.pg_port}")
        for name in DATABASES:
            pg.ensure_database(name)
        for component in ("ctims", "badging"):
            applied = migrations.apply(self.dsn(component), component)
            if applied:
                did.append(f"{component}: applied {', '.join(applied)}")
        sandbox_pid = self._ensure_sandbox()
        if sandbox_pid:
            did.append(f"credly sandbox started on {self.sandbox_base_url} (pid {sandbox_pid})")
        if self.ensure_mail():
            did.append(f"SMTP sink started on 127.0.0.1:{self.smtp_port} "
                       f"(messages in {self.paths.mail})")
        self.sync_templates()
        self._save_state(sandbox_pid=sandbox_pid
                         or _read_json(self.paths.state_file).get("sandbox_pid"))
        _write_private(self.paths.env_file, self.env_text())
        return did

    def _save_state(self, **pids: int | None) -> None:
        state = _read_json(self.paths.state_file) | pids | {
            "pg_port": self.pg_port, "sandbox_port": self.sandbox_port,
            "smtp_port": self.smtp_port}
        _write_private(self.paths.state_file, json.dumps(state))

    def mail_running(self) -> bool:
        pid = _read_json(self.paths.state_file).get("mail_pid")
        return bool(pid) and _alive(pid) and port_in_use(self.smtp_port)

    def ensure_mail(self) -> int | None:
        """Start the SMTP sink unless it runs; returns the new pid, or None if it ran."""
        from devstack import mail_sink

        if self.mail_running():
            return None
        pid = mail_sink.start("127.0.0.1", self.smtp_port, self.paths.mail,
                              self.paths.root / "mail_sink.log")
        self._save_state(mail_pid=pid)
        return pid

    def stop_mail(self) -> bool:
        """Stop the SMTP sink (what a relay outage looks like); returns whether it ran."""
        if not self.mail_running():
            return False
        pid = _read_json(self.paths.state_file)["mail_pid"]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        for _ in range(100):
            if not port_in_use(self.smtp_port):
                break
            time.sleep(0.05)
        return True

    @property
    def sandbox(self) -> SandboxControl:
        """The sandbox's /_sandbox controls (faults, reset, badges, templates, tokens)."""
        from devstack.credly_sandbox.control import SandboxControl

        return SandboxControl(self.sandbox_base_url.removesuffix("/v1"))

    def _sandbox_alive(self) -> bool:
        return self.sandbox.alive()

    def _ensure_sandbox(self) -> int | None:
        if self._sandbox_alive():
            return None
        if port_in_use(self.sandbox_port):
            raise DevstackError(
                f"port {self.sandbox_port} is in use by another program; start the stack on "
                "another one: DEVSTACK_SANDBOX_PORT=<free port> make up (or make run)")
        from devstack.credly_sandbox.process import start_sandbox

        local = local_secrets(self.paths)
        process = start_sandbox(
            port=self.sandbox_port, state_path=self.paths.sandbox_state,
            org_id=local["credly_org_id"], token=local["credly_token"],
            log_path=self.paths.root / "credly_sandbox.log",
        )
        return process.pid

    def sync_templates(self) -> int:
        """Give the sandbox a template for every row of badging.badge_templates."""
        import psycopg

        from devstack.seed.reference import template_expiry_days

        with psycopg.connect(self.dsn("badging")) as conn:
            rows = conn.execute(
                "SELECT credly_template_id, assessment_code FROM badging.badge_templates"
            ).fetchall()
        # Some set a default expiry of their own (devstack/seed/reference.py), as Credly's
        # template-level expiration does.
        templates = [{"id": template_id, "name": f"CareerTech {code}", "state": "active",
                      "allow_duplicate_badges": False,
                      "expires_in_days": template_expiry_days(template_id)}
                     for template_id, code in rows]
        if templates:
            self.sandbox.put_templates(templates)
        return len(templates)

    def seed(self, params: SeedParams) -> SeedReport:
        """Add a seed to this stack's CTIMS and ledger, and its templates to the sandbox."""
        from devstack.seed import run_seed

        report = run_seed(params, self.dsn("ctims"), self.dsn("badging"))
        self.sync_templates()
        return report

    def down(self) -> list[str]:
        did = []
        pid = _read_json(self.paths.state_file).get("sandbox_pid")
        if pid and self._sandbox_alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
            did.append(f"credly sandbox (pid {pid}) stopped")
        if self.stop_mail():
            did.append("SMTP sink stopped")
        if self.postgres.initialised() and self.postgres.running():
            self.postgres.stop()
            did.append("postgres stopped")
        return did

    def status(self) -> dict[str, str]:
        pg = self.postgres
        return {
            "postgres": (f"running on 127.0.0.1:{self.pg_port} (data {self.paths.pgdata})"
                         if pg.initialised() and pg.running() else "stopped"),
            "credly sandbox": (f"running at {self.sandbox_base_url}" if self._sandbox_alive()
                               else "stopped"),
            "SMTP sink": (f"running on 127.0.0.1:{self.smtp_port} (messages in {self.paths.mail})"
                          if self.mail_running() else "stopped"),
            "env file": str(self.paths.env_file) if self.paths.env_file.exists() else "not written",
        }

    def airflow_env(self) -> dict[str, str]:
        """The environment that points Airflow and the pipeline at this stack."""
        local = local_secrets(self.paths)
        credly = {
            "conn_type": "credly",
            "host": self.sandbox_base_url,
            "password": local["credly_token"],
            "extra": {"organization_id": local["credly_org_id"],
                      "earner_id_secret": local["earner_id_secret"]},
        }
        # The agency's relay in production; here the sink, without TLS or login. One try:
        # the pipeline retries a failed list on the next run, not in a tight loop.
        smtp = {"conn_type": "smtp", "host": "127.0.0.1", "port": self.smtp_port,
                "extra": {"from_email": "badging@careertech.example.org",
                          "alert_to": "badging-operators@careertech.example.org",
                          "disable_tls": True, "disable_ssl": True, "retry_limit": 0,
                          "timeout": 10}}
        return {
            "AIRFLOW_HOME": str(self.paths.airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.dsn("airflow").replace(
                "postgresql://", "postgresql+psycopg2://"),
            "AIRFLOW_CONN_CTIMS_DB": self.dsn("ctims", user="ctims_reader"),
            "AIRFLOW_CONN_BADGING_DB": self.dsn("badging"),
            "AIRFLOW_CONN_CREDLY_API": json.dumps(credly),
            "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(smtp),
            # Links in messages; `make airflow`'s port (AirflowSite sets its own).
            "AIRFLOW__API__BASE_URL": "http://localhost:8080",
            "BADGING_REPORT_DIR": str(self.paths.reports),
        }

    def env_text(self) -> str:
        lines = ["# Written by `python -m devstack up`; `source` it in bash. Local secrets only."]
        lines += [f"export {key}={shlex.quote(value)}" for key, value in self.airflow_env().items()]
        # `airflow` and `python` of the project's venv first, as after `source .venv/bin/activate`.
        venv_bin = shlex.quote(str(Path(sys.executable).parent))
        lines.append(f'export PATH={venv_bin}:"$PATH"')
        return "\n".join(lines) + "\n"
