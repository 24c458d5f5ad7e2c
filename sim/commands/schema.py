"""diplosim schema: the JSON Schema of the diplosim/3 scenario format."""

from __future__ import annotations

import json
import sys

HELP = "write the JSON Schema of the scenario format"


def add_arguments(p) -> None:
    p.add_argument("--out", help="file to write (default: standard output)")


def main(args) -> int:
    from sim.model.scenario import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if args.out is not None:
        from sim.outputs.output_folder import write_file

        write_file(args.out, text)
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(text)
    return 0
