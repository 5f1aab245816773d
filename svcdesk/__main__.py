"""Run svcdesk as ``python -m svcdesk`` (through a running `svcdesk server`, if any)."""

from svcdesk.launch import main

main()
