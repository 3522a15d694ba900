"""`python -m devstack.seed`: seed the databases named by DSN (see cli.py)."""

from devstack.seed.cli import main

raise SystemExit(main())
