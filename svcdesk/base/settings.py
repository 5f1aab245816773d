"""Switches read from the environment that more than one layer consults."""

import os

OFF = ("0", "off", "no", "false")


def speed_on(environ=os.environ) -> bool:
    """Whether the speed machinery (svcdesk/speed: the command server, its watch, the caches)
    may be used: yes unless SVCDESK_SPEED is 0, off, no or false. Off, every command takes
    the plain path, slower and never different."""
    return environ.get("SVCDESK_SPEED", "").lower() not in OFF
