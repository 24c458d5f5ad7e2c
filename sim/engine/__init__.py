"""The ensemble drivers: the compiled engine over blocks of members, and ensembles of
Mesa models, with their tallies."""
