"""python -m roles.diagnose {gather,explain,compare} — see roles/diagnose/__init__.py."""

from roles.diagnose.cli import main

raise SystemExit(main())
