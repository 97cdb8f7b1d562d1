"""Generate `webapp/data/demo_mentions.jsonl`, the sample mentions the demo source replays.

The mentions are about a fictional product, the "Acme Rocket" espresso machine by Acme Coffee:
reviews, complaints, praise, support questions, shipping news, a few lines in other languages.
They are built from the templates of webapp/monitors/sources/demo_text.py with `random.Random(42)`, so running the script
again writes the same file byte for byte. Handles are invented, links use example.com/.org.

The mix aims at roughly 45% positive, 30% negative and 25% neutral as VADER scores them;
`--check` prints the actual mix (needs the VADER lexicon, see scripts/install_nltk_data.py).

Usage: python scripts/make_demo_data.py [--out PATH] [--count N] [--check]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from webapp.monitors.sources.demo_text import MIX, SEED, handle, LINK_HOSTS, mention_text  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "webapp" / "data" / "demo_mentions.jsonl"
COUNT = 600


def tones(count: int, rng: random.Random) -> list[str]:
    names = list(MIX)
    sizes = [round(MIX[name] * count) for name in names]
    sizes[0] += count - sum(sizes)
    out = [name for name, size in zip(names, sizes) for _ in range(size)]
    rng.shuffle(out)
    return out


def generate(count: int = COUNT, seed: int = SEED) -> list[dict]:
    """The sample mentions: ids d0001.., texts unique (up to the foreign lines' supply)."""
    rng = random.Random(seed)
    seen: set[str] = set()
    mentions = []
    for i, tone in enumerate(tones(count, rng), start=1):
        for _ in range(50):  # a fresh combination; after 50 tries accept a repeat (a repost)
            text = mention_text(tone, rng)
            if text not in seen:
                break
        seen.add(text)
        author = handle(rng) if rng.random() < 0.95 else None
        url = None
        if rng.random() < 0.8:
            url = rng.choice(LINK_HOSTS).format(handle=author or "anon",
                                                num=rng.randint(100000, 999999))
        mentions.append({"id": f"d{i:04d}", "text": text, "author": author, "url": url})
    return mentions


def write(mentions: list[dict], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="\n") as fh:
        for mention in mentions:
            fh.write(json.dumps(mention, ensure_ascii=False) + "\n")


def check(mentions: list[dict]) -> None:
    """Print the sentiment mix as the app's VADER scorer sees it."""
    import sys
    from collections import Counter

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from webapp.scoring.sentiment import score_text

    labels = Counter(score_text(m["text"]).label for m in mentions)
    total = len(mentions)
    for label in ("positive", "negative", "neutral"):
        print(f"{label:9} {labels[label]:4}  {100 * labels[label] / total:5.1f}%")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--count", type=int, default=COUNT)
    parser.add_argument("--check", action="store_true", help="print the VADER sentiment mix")
    args = parser.parse_args(argv)
    mentions = generate(args.count)
    write(mentions, args.out)
    print(f"wrote {len(mentions)} mentions to {args.out}")
    if args.check:
        check(mentions)


if __name__ == "__main__":
    main()
