"""diplosim: an agent-based simulator of diplomatic decisions, on Mesa.

Layers: ``model`` (scenario format, roles, compiled step rules, Mesa agents and model),
``engine`` (ensemble drivers), ``experiments`` (validate, sweep, sensitivity, discovery,
calibration, counterfactuals), ``outputs`` (tables, folders, traces, reports); ``cli`` and
``app`` are thin layers over them.
"""
