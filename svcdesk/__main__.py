"""Run svcdesk as ``python -m svcdesk`` (through a running `svcdesk server`, if any)."""

from svcdesk.speed.client import main

main()
