"""Run svcdesk as ``python -m svcdesk``."""

from svcdesk.cli import main

main(prog_name="svcdesk")
