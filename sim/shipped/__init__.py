"""The files the commands need, shipped with the package: the scenarios and their
counterfactual overlays, the behavioural constants and the calibration targets.

In a checkout these are links to the project's own ``scenarios/`` and ``calibration/``; a
built wheel holds copies, so the commands work from any folder after ``pip install``.
"""
