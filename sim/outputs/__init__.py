"""Result tables and manifests, output folders, traces and reports."""
