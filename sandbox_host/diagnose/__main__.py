"""sandbox-host diagnose: the same as `sandbox-host diagnose`."""

from sandbox_host.diagnose.cli import main

raise SystemExit(main())
