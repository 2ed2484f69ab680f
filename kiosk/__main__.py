"""`python -m kiosk` is the `giliran` command."""

from kiosk.cli import main

raise SystemExit(main())
