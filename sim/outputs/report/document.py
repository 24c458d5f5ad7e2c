"""The document model every report kind builds and every renderer reads: sections of
paragraphs, tables of already formatted cells, and PNG plots."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Table:
    """A table of already formatted cells (the same strings go to HTML and Markdown)."""

    caption: str
    header: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Plot:
    """A PNG image, written to ``plots/<name>.png`` and embedded in the HTML."""

    name: str
    caption: str
    png: bytes


Block = str | Table | Plot  # a str is a paragraph


@dataclass
class Section:
    """A titled run of blocks (paragraphs, tables, plots), in reading order."""

    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Document:
    """A whole report: a title, summary paragraphs and sections."""

    title: str
    summary: list[str]
    sections: list[Section]

    def plots(self) -> list[Plot]:
        """Every plot, in reading order."""
        return [b for s in self.sections for b in s.blocks if isinstance(b, Plot)]
