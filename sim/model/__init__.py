"""The model (Model 3: every actor on one scale; docs/model3.md).

A ``diplosim/3`` scenario gives, for each decision, every actor's position, salience and clout;
the deciding actor weighs the loss each can impose, looks at the decision at the moments of a
deadline hazard and at every event that addresses it, and actors with consent can block any
change from the standing situation. Bodies decide by vote.

Parts: :mod:`.scenario` (the format and its loader), :mod:`.loading` (a scenario named as a
user names it, and the constants), :mod:`.constants`, :mod:`.plan` (a scenario as arrays),
:mod:`.kernel` (the compiled rules of one member), :mod:`.agents` (the Mesa model that steps
them, moment by moment), :mod:`.engine` (the compiled ensemble), :mod:`.cost` (the work
estimate), :mod:`.forecasters` (the reference forecasters from the same inputs).
"""
