"""What every file format shares (:mod:`.common`: located errors, the strict base model,
sourced numbers and quotes, bounded reading and the quote check; :mod:`.yamlmap`: YAML read
safely with the line of every key). The scenario format itself is :mod:`sim.model.scenario`;
overlays, sweep specs and constants files use the same parts."""
