"""Ctrl-C once a change is committed: it waits until the command has finished what the
change started (its notices queued, its deliveries recorded), so that nothing is lost
between the commit and the end, and is then said truthfully (see app.desk.interrupted)."""

import signal
import threading

_state = {"deferring": False, "came": False, "previous": None}


def defer() -> None:
    """From now on, a SIGINT is noted instead of interrupting (the main thread only: no
    other can set a handler)."""
    if _state["deferring"] or threading.current_thread() is not threading.main_thread():
        return

    def noted(signum, frame):
        _state["came"] = True

    _state["previous"] = signal.signal(signal.SIGINT, noted)
    _state["deferring"] = True


def end() -> bool:
    """Stop deferring; True if a SIGINT came meanwhile."""
    came = _state["came"]
    if _state["deferring"]:
        signal.signal(signal.SIGINT, _state["previous"] or signal.default_int_handler)
    _state.update(deferring=False, came=False, previous=None)
    return came
