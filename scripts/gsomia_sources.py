"""Bring the three GSOMIA episodes' sources into the library (issue 20: "the three GSOMIA
episodes and their sources join it").

The project's fact sheets (``../shared/facts``) are the project's own records: each episode's
``record.md`` reproduces the ones its scenario cites, whole. The source articles
(``../shared/seeds``) are not the project's to copy: for each article the scenario cites, the
episode's ``sources/<id>.txt`` holds only the sentences its quotes come from, each sentence as
the article writes it (whitespace and typographic quotes folded as the quote check folds them).
``tests/test_sources.py`` checks every such sentence against the article when ``../shared`` is
beside the checkout.

    python scripts/gsomia_sources.py            # rewrite the three folders from ../shared
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.formats.common import normalise_text  # noqa: E402

SHARED = ROOT.parent / "shared"
EPISODES = ("gsomia_2012", "gsomia_2016", "gsomia_2019")
# Where each cited source is in the project's shared material (the scenarios cite the copies).
SHARED_FILES = {
    "gt_2012": "seeds/000_64d2960e482f818f.txt",
    "rsis_2012": "seeds/003_cffcfc4cd27c46b1.txt",
    "kbs_2019": "seeds/001_d0f888365709387e.txt",
    "mainichi_2019": "seeds/002_5765abbc6426c041.txt",
    "nikkei_2019": "seeds/004_cc5dae5c7dced977.txt",
    "record": "facts/gsomia_record.md",
    "record_2016": "facts/gsomia_2016_record.md",
}
SENTENCE_END = re.compile(r"(?<![A-Z]\.[A-Z]\.)(?<=[.!?])[\"')\]]*\s+")  # not after "U.S."


def quotes_by_source(scenario: dict) -> dict[str, list[str]]:
    """Every quote of the file, under the source id it cites (in the file's order)."""
    found: dict[str, list[str]] = {}

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("source"), str) and isinstance(node.get("quote"), str):
                found.setdefault(node["source"], []).append(node["quote"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(scenario)
    return found


def sentences_holding(text: str, quotes: list[str]) -> list[str]:
    """The article's sentences (folded) that the quotes come from, in the article's order."""
    folded = normalise_text(text)
    bounds, start = [], 0
    for match in SENTENCE_END.finditer(folded):
        bounds.append((start, match.start()))
        start = match.end()
    bounds.append((start, len(folded)))
    keep: set[int] = set()
    for quote in quotes:
        at = folded.find(normalise_text(quote))
        if at < 0:
            raise SystemExit(f"quote not in its article: {quote[:60]!r}")
        end = at + len(normalise_text(quote))
        keep |= {i for i, (a, b) in enumerate(bounds) if a < end and b > at}
    return [folded[a:b].strip() for i, (a, b) in enumerate(bounds) if i in keep]


def write_episode(name: str) -> None:
    folder = ROOT / "library" / name
    scenario = yaml.safe_load((folder / "scenario.yaml").read_text(encoding="utf-8"))
    quotes = quotes_by_source(scenario)
    sheets, articles = [], []
    for source in scenario["sources"]:
        original = SHARED_FILES[source["id"]]
        if original.startswith("facts/"):
            sheets.append((source, original))
            continue
        text = (SHARED / original).read_text(encoding="utf-8")
        lines = sentences_holding(text, quotes.get(source["id"], []))
        out = folder / "sources" / f"{source['id']}.txt"
        out.parent.mkdir(exist_ok=True)
        out.write_text(
            f"{source['publisher']}, \"{source['title']}\" ({source.get('date', 'undated')}): the sentences "
            f"the scenario quotes, one per paragraph (from the project's shared material, "
            f"{original}).\n\n" + "\n\n".join(lines) + "\n", encoding="utf-8")
        articles.append((source, original, len(lines)))
    write_record(folder, scenario, sheets, articles)


def write_record(folder: Path, scenario: dict, sheets, articles) -> None:
    rows = [f"| {s['id']} | {s['title']} | {s['publisher']} | {s.get('date', '')} | "
            f"sources/{s['id']}.txt ({n} sentence{'s' if n != 1 else ''}; the project's shared {original}) |"
            for s, original, n in articles]
    rows += [f"| {s['id']} | {s['title']} | {s['publisher']} | {s.get('date', '')} | "
             f"reproduced whole below (the project's shared {original}) |" for s, original in sheets]
    parts = [f"# {scenario['title'].strip()} — sourced record\n",
             "The project's own fact sheets this episode's scenario cites, reproduced whole "
             "(dated rows, each with its source and the source's own words), and the source "
             "articles it quotes, whose quoted sentences are in `sources/` beside this file "
             "(`scripts/gsomia_sources.py` writes both from the project's shared material).\n",
             "## Sources\n", "| id | title | publisher | date | where its words are |",
             "|---|---|---|---|---|", *rows, ""]
    for source, original in sheets:
        sheet = (SHARED / original).read_text(encoding="utf-8").rstrip()
        sheet = re.sub(r"^(#+) ", lambda m: "#" + m.group(1) + " ", sheet, flags=re.M)
        parts += [f"## The fact sheet `{source['id']}` ({original})\n", sheet, ""]
    (folder / "record.md").write_text("\n".join(parts), encoding="utf-8")


if __name__ == "__main__":
    for episode in EPISODES:
        write_episode(episode)
