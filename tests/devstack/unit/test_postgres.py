"""devstack.postgres helpers that make a private clone reachable for the server's OS user."""

from __future__ import annotations

import stat

from devstack.postgres import _allow_traverse


def test_allow_traverse_adds_search_but_not_read_permission(tmp_path):
    deepest = tmp_path / "home" / "clone" / ".devstack"
    deepest.mkdir(parents=True)
    for path in (tmp_path / "home", tmp_path / "home" / "clone", deepest):
        path.chmod(0o700)

    _allow_traverse(deepest)

    for path in (tmp_path / "home", tmp_path / "home" / "clone", deepest):
        mode = path.stat().st_mode
        assert mode & stat.S_IXOTH, path
        assert not mode & (stat.S_IROTH | stat.S_IWOTH), path
        assert stat.S_IMODE(mode) == 0o701, path
