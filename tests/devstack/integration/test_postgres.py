"""The embedded Postgres starts on a machine that has never run it: a new OS user, a private
clone directory, any call first."""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import stat
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest

from devstack.errors import DevstackError
from devstack.ports import free_port
from devstack.postgres import OS_USER_SETTING, EmbeddedPostgres

AS_ROOT = os.geteuid() == 0


@pytest.fixture
def new_os_user_name(monkeypatch):
    """A Postgres OS user name no earlier run has created; removed again afterwards."""
    name = f"t_pg_{secrets.token_hex(4)}"
    monkeypatch.setenv(OS_USER_SETTING, name)
    yield name
    if AS_ROOT:
        subprocess.run(["pkill", "-KILL", "-u", name], check=False)
        subprocess.run(["userdel", name], check=False, capture_output=True)


def _exists(user: str) -> bool:
    try:
        pwd.getpwnam(user)
    except KeyError:
        return False
    return True


def test_a_cluster_starts_in_a_private_directory_for_a_new_os_user(new_os_user_name):
    private = Path(tempfile.mkdtemp(prefix="credly-home-"))  # mode 0700, like a home
    pg = EmbeddedPostgres(private / "clone" / ".devstack" / "pg", free_port())
    try:
        # What `devstack up` asks first; the bug was a pg_ctl run as a user not yet made.
        assert not pg.running()
        pg.start()
        # devstack makes a new instance per call: a fresh one must see the same server.
        assert EmbeddedPostgres(pg.data_dir, pg.port).running()
        with psycopg.connect(pg.dsn()) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        if AS_ROOT:
            owner = pwd.getpwuid(pg.data_dir.stat().st_uid).pw_name
            assert owner == new_os_user_name
            mode = private.stat().st_mode
            # Search permission only: other users still cannot list the private directory.
            assert mode & stat.S_IXOTH
            assert not mode & stat.S_IROTH
        else:
            assert not _exists(new_os_user_name), "a non-root run must not create OS users"
            assert pg.data_dir.stat().st_uid == os.geteuid()
    finally:
        pg.destroy()
        shutil.rmtree(private, ignore_errors=True)


def test_a_taken_port_is_said_in_one_line():
    private = Path(tempfile.mkdtemp(prefix="credly-home-"))
    pg = EmbeddedPostgres(private / "pg", free_port())
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", pg.port))
        squatter.listen()
        try:
            with pytest.raises(DevstackError, match=rf"port {pg.port} is in use.*DEVSTACK_PG_PORT"):
                pg.start()
        finally:
            pg.destroy()
            shutil.rmtree(private, ignore_errors=True)
