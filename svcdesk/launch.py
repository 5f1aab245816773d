"""The svcdesk command, and the speed machinery's second seam: the command line goes to a
running `svcdesk server` (speed/client.py) when the speed machinery is on, else it runs in
this process. Until the hand-over only built-in modules are imported, so a served command
costs little more than the interpreter's own start."""

import sys

from svcdesk.base.settings import speed_on


def main() -> None:
    """The console script."""
    fast = speed_on()
    if fast:
        try:
            from svcdesk.speed.client import served
        except ImportError:  # the speed machinery is not installed: the plain path
            fast = False
        else:
            code = served(sys.argv[1:])
            if code is not None:
                sys.exit(code)
    from svcdesk import cli

    if fast:
        cli.add_module("svcdesk.speed.server", ("server",))
    cli.main()
