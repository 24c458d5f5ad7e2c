"""The model written once: per-role step rules over one member's state, compiled with Numba.

``layout`` names the slots of a member's state and parameters, ``rules`` holds the formulas,
``plan`` turns a scenario into the arrays the rules read, ``steps`` holds each role's step and
the order they run in, ``member`` runs one member over the clock. The Mesa agents call the
role steps for their own member; the ensemble engine calls the same ``member`` run for every
member.
"""
