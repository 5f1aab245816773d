"""Run svcdesk as ``python -m svcdesk`` (through a running `svcdesk server`, if any)."""

from svcdesk.client import main

main()
