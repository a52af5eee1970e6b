"""python -m sandbox_host: the same as the `sandbox-host` command."""

from sandbox_host.cli import main

raise SystemExit(main())
