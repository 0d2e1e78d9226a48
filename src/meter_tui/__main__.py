"""Allows `python -m meter_tui`, the form textual-serve and cron scripts can always call."""

from meter_tui.cli import main

raise SystemExit(main())
