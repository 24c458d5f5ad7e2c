"""diplosim app: serve the teaching page on this machine."""

from __future__ import annotations

import sys

from sim.commands import common

HELP = "serve the teaching page (Mesa's SolaraViz) on this machine"
SERVES = True  # uvicorn handles Ctrl-C and SIGTERM itself


def add_arguments(p) -> None:
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")


def main(args) -> int:
    """Solara in production mode, telemetry off, answering only this machine (sim.serve); a
    port in use, or one this user may not open, is one error line."""
    from sim.serve import PageError, serve

    if not 0 <= args.port <= 65535:
        common.say("error", f"--port: expected 0 to 65535, got {args.port}")
        return 2
    try:
        serve(args.host, args.port, announce=lambda text: print(f"diplosim: {text}",
                                                                 file=sys.stderr, flush=True))
    except PageError as exc:
        common.say("error", str(exc))
        return 2
    return 0
