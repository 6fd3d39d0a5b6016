"""`python -m streams` is the same as the `journey` command."""

from streams.cli import main

raise SystemExit(main())
