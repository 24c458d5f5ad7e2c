"""What the user asked of a report beyond the folder: the axes and the outcome of a sweep's
heatmap, and the scenario file when it is not found from the manifest."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReportRequest:
    """The flags of ``diplosim report`` (each None when not given)."""

    x: str | None = None
    y: str | None = None
    decision: str | None = None
    option: str | None = None
    scenario: str | None = None

    def sweep_flags(self) -> dict[str, str | None]:
        """The flags that apply to sweep folders only, by name."""
        return {"--x": self.x, "--y": self.y, "--decision": self.decision,
                "--option": self.option}
