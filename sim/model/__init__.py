"""The model: the scenario format and loader, roles, clock, input draws, constants, the
compiled step rules (``kernel``) and the Mesa agents and model that step them."""
