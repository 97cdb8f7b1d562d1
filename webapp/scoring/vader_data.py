"""NLTK's VADER data without importing the `nltk` package: its lexicon and its constants.

`import nltk` runs NLTK's package initialiser, which imports most of NLTK and, through
`nltk.classify`, scikit-learn and SciPy when they are installed: about 130 MB in every worker
process that only needs VADER's word list and a few tables. So the fast scorer reads both
straight from where NLTK keeps them:

- the lexicon from `sentiment/vader_lexicon.zip` in an NLTK data folder (the folders given to
  `sentiment.configure`, then `NLTK_DATA`, then NLTK's own default folders), parsed as NLTK's
  `make_lex_dict` does;
- the constants (`VaderConstants`' literal tables) from the installed `nltk/sentiment/vader.py`,
  read with `ast.literal_eval` (after putting in the numbers the tables name), so the values
  are NLTK's own and follow an upgrade.

Either falls back to importing NLTK when it cannot be read this way (None is returned and the
caller asks NLTK); `tests/test_vader_fast.py` checks that both equal what NLTK itself loads.
"""
from __future__ import annotations

import ast
import importlib.util
import os
import sys
import zipfile
from pathlib import Path
from typing import Iterable

LEXICON_ZIP = os.path.join("sentiment", "vader_lexicon.zip")
LEXICON_MEMBER = "vader_lexicon/vader_lexicon.txt"
CONSTANT_NAMES = ("B_INCR", "B_DECR", "C_INCR", "N_SCALAR", "NEGATE", "BOOSTER_DICT",
                  "SPECIAL_CASE_IDIOMS", "PUNC_LIST")


def data_folders(extra: Iterable[str] = ()) -> list[str]:
    """Where NLTK would look for data, in its order, after the `extra` folders."""
    env = [p for p in os.environ.get("NLTK_DATA", "").split(os.pathsep) if p]
    home = os.path.expanduser("~/nltk_data")
    prefixes = [os.path.join(sys.prefix, p) for p in ("nltk_data", "share/nltk_data", "lib/nltk_data")]
    system = ["/usr/share/nltk_data", "/usr/local/share/nltk_data", "/usr/lib/nltk_data",
              "/usr/local/lib/nltk_data"]
    seen, out = set(), []
    for folder in [*extra, *env, home, *prefixes, *system]:
        if folder and folder not in seen:
            seen.add(folder)
            out.append(folder)
    return out


def read_lexicon(folders: Iterable[str]) -> dict[str, float] | None:
    """The VADER lexicon {word: valence} from the first folder that has it; None if none has."""
    for folder in folders:
        path = os.path.join(folder, LEXICON_ZIP)
        if os.path.isfile(path):
            with zipfile.ZipFile(path) as archive:
                text = archive.read(LEXICON_MEMBER).decode("utf-8")
            return parse_lexicon(text)
    return None


def parse_lexicon(text: str) -> dict[str, float]:
    """NLTK's `make_lex_dict`: the first two tab-separated fields of each line."""
    lexicon = {}
    for line in text.rstrip("\n").split("\n"):
        word, measure = line.strip().split("\t")[0:2]
        lexicon[word] = float(measure)
    return lexicon


class _Known(ast.NodeTransformer):
    """Names of constants read so far become their values (BOOSTER_DICT's entries are B_INCR
    and B_DECR), so that the table is a literal again."""

    def __init__(self, known: dict):
        self.known = known

    def visit_Name(self, node: ast.Name):
        if node.id in self.known and not isinstance(self.known[node.id], (dict, list, set)):
            return ast.copy_location(ast.Constant(self.known[node.id]), node)
        return node


def read_constants() -> dict | None:
    """VaderConstants' literal tables from NLTK's source, or None when they cannot be read."""
    spec = importlib.util.find_spec("nltk")  # finds the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        return None
    source = Path(next(iter(spec.submodule_search_locations)), "sentiment", "vader.py")
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"))
        body = next(node.body for node in tree.body
                    if isinstance(node, ast.ClassDef) and node.name == "VaderConstants")
        found = {}
        for node in body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                    and isinstance(node.targets[0], ast.Name) and node.targets[0].id in CONSTANT_NAMES:
                found[node.targets[0].id] = ast.literal_eval(_Known(found).visit(node.value))
    except (OSError, SyntaxError, ValueError, StopIteration):
        return None
    return found if set(found) == set(CONSTANT_NAMES) else None
