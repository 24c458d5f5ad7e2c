"""One small module per ``diplosim`` command, each with ``HELP``, ``add_arguments(parser)``
and ``main(args) -> int`` (as SALib builds its command line: ``cli_parse``/``cli_action``).
The order here is the order of ``diplosim --help``."""

COMMANDS = ("run", "validate", "counterfactual", "sweep", "sensitivity", "discover",
            "calibrate", "report", "check", "scenarios", "init", "schema", "app")
