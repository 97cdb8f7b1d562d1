"""Install the VADER lexicon into an NLTK data folder without downloading anything.

The lexicon file ships inside the `vaderSentiment` package (from PyPI); NLTK reads it from
`<data>/sentiment/vader_lexicon.zip/vader_lexicon/vader_lexicon.txt`. The default target is
`<sys.prefix>/nltk_data`, a folder NLTK searches by itself, so a virtualenv needs no setting.

Usage: python scripts/install_nltk_data.py [TARGET_DIR]
"""
from __future__ import annotations

import sys
import zipfile
from pathlib import Path


def install(target: Path) -> Path:
    import vaderSentiment

    source = Path(vaderSentiment.__file__).with_name("vader_lexicon.txt")
    zip_path = target / "sentiment" / "vader_lexicon.zip"
    if zip_path.exists():
        return zip_path
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = zip_path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(source, "vader_lexicon/vader_lexicon.txt")
    tmp.replace(zip_path)
    return zip_path


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(sys.prefix) / "nltk_data"
    print(f"VADER lexicon: {install(folder)}")
