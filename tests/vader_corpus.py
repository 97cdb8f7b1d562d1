"""Texts for checking the fast VADER against NLTK's: every rule's corner cases, random token
mixes, and realistic mentions (used by tests/test_vader_fast.py and bench/bench_vader.py).

Everything is deterministic for a seed (`random.Random(seed)`), no hypothesis.
"""
from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

POSITIVE = ["good", "great", "love", "amazing", "happy", "nice", "best", "sick", "awesome", "wow",
            "lol", "fun", "perfect", "like", "excellent", "cool", "glad", "kind", "right", "bomb"]
NEGATIVE = ["bad", "awful", "hate", "terrible", "worst", "sad", "broken", "angry", "fail",
            "shit", "death", "ugly", "slow", "sucks", "disappointed", "crap", "can't stand", "ass"]
NEUTRAL = ["the", "phone", "it", "is", "was", "a", "I", "this", "that", "app", "update", "battery",
           "of", "to", "at", "and", "mouth", "hand", "mustard", "cut", "kiss", "yeah", "sort",
           "just", "enough", "so", "least", "very", "never", "but", "BUT", "But", "kind", "x"]
BOOSTERS = ["very", "really", "so", "extremely", "totally", "barely", "hardly", "kinda", "sorta",
            "somewhat", "more", "most", "less", "little", "slightly", "fucking", "uber", "kind-of"]
NEGATIONS = ["not", "never", "don't", "dont", "isn't", "cannot", "without", "nothing", "nor",
             "uh-uh", "won't", "wouldn't", "ain't", "rarely", "despite", "aint", "Never", "NOT",
             "couldn't've", "n't"]
EMOTICONS = [":)", ":(", ":D", ":-)", ":-(", "<3", ":/", ";)", ":P", "xD", "=)", ":')", ":-D",
             "(:", "):", ":O", "^_^"]
EMOJI = ["😀", "😍", "🔥", "👍", "👎", "😡", "😭", "🚀", "❤️", "🤔", "😂", "🙄", "✨", "💯"]
PUNCT_RUNS = ["", "", "", "!", "!!", "!!!", "!!!!!", "?", "??", "???", "?!?", "!?!?", "?!?!?",
              ".", "...", ",", ";", ":", "-", "'", '"', ")", "(", "*", "#", "@"]
LINKS = ["https://example.com/p/123?utm_source=x", "http://t.co/AbC123", "www.example.org",
         "#acme", "#AcmeFail", "@someone", "@ACME_support", "RT", "via", "&amp;"]

#: Short texts aimed at one rule each (the cases NLTK's code branches on).
RULE_CASES = [
    "", " ", "a", "!", "? ? ?", "I", "a b c", "!!!", "good", "GOOD", "Good", "good!", "!good",
    "good!!!!", "(good)", "'good'", '"good"', "good?!?", "good,bad", "good.", "..good", "-good-",
    "The shit", "that is the shit", "this is THE SHIT", "the bomb", "this phone is the bomb dot com",
    "yeah right", "oh yeah right great", "yeah right, great", "it did not cut the mustard",
    "cut the mustard", "the kiss of death", "a real kiss of death", "living hand to mouth",
    "a total bad ass", "bad ass", "badass phone",
    "at least good", "at least it works", "very least good", "least good", "the least good",
    "LEAST good", "not least good", "good at least", "least", "at least",
    "never so good", "never this good", "never so bad", "never this bad", "it was never so good",
    "never so very good", "Never so good", "so good", "this good", "never good", "never very good",
    "kind of good", "kind of bad", "kind good", "kind", "kindof good", "kind-of good", "kinda good",
    "sort of good", "sort of bad", "just enough good", "it was just enough to be good",
    "good but bad", "bad but good", "but good", "good but", "good BUT bad", "good but bad but great",
    "not good", "not bad", "isn't good", "couldn't've been better", "n't good", "without love",
    "nothing good", "not very good", "not very bad", "not so good", "not really bad at all",
    "VERY good", "very GOOD", "VERY GOOD", "VERY GOOD phone", "really REALLY good", "GOOD phone",
    "GOOD BAD", "I LOVE IT", "I love IT", "so so good", "good good good", "good bad good bad",
    "good very good", "not good not good", "great, not great", "I like it", "I LIKE it",
    "hardly good", "barely bad", "extremely bad", "EXTREMELY bad phone", "slightly good",
    "the more the better", "more or less fine", "most excellent",
    ":) :( :D :-) <3", ":D", "xD", "<3 <3 <3", "lol", "LOL", "lol lol", "wtf", "WTF is this",
    "😍😍😍", "I love it 😍", "🔥🔥 amazing 🔥🔥", "meh", "ok", "OK", "okay", "fine", "whatever",
    "can't stand it", "can't stand", "fed up", "screwed up",
    "Is it good??", "Is it good???", "Is it good????", "Great!!!!!!", "bad!!", "bad!!!!!!!!",
    "good?", "good??", "good?!", "the shop opens at nine.", "Acme Rocketのエスプレッソ、毎朝たのしみ。",
    "not not good", "never not good", "not the shit", "kinda not good", "not kind of good",
    "no good", "no", "NO", "nope", "nope good", "uh-uh good", "uhuh good",
    "good\tbad\nugly", "good\u00a0bad", "good\u2003bad", "GOOD\u3000bad",
    "1 2 3 good", "100% good", "good... bad...", "good!!! bad???", "good. But bad.",
]


def quirk_texts() -> list[str]:
    """RULE_CASES plus systematic two- and three-word combinations of rule words."""
    out = list(RULE_CASES)
    rule_words = ["not", "never", "so", "this", "least", "at", "very", "kind", "of", "but", "the",
                  "good", "GOOD", "bad", "BAD", "sort", "just", "enough", "yeah", "right", "shit",
                  "bomb", "cut", "mustard", "really", "REALLY", "barely", "don't", "x"]
    for a, b in itertools.product(rule_words, repeat=2):
        out.append(f"{a} {b}")
    for a, b, c in itertools.product(rule_words[:14], repeat=3):
        out.append(f"{a} {b} {c} good")
    return out


def lexicon_texts(lexicon: dict, rng: random.Random, per_word: int = 1) -> list[str]:
    """Every lexicon entry in a random small context (cased, negated, boosted, punctuated)."""
    out = []
    templates = ["{w}", "{W}", "not {w}", "very {w}", "so {w}!", "{w} but ok", "never so {w}",
                 "kind of {w}", "at least {w}", "the {w} phone", "{w}, really", "I am {W} today",
                 "it is not the {w}", "totally {w} lol", "{w}?!?", "({w})"]
    for word in sorted(lexicon):
        for _ in range(per_word):
            template = rng.choice(templates)
            out.append(template.format(w=word, W=word.upper()))
    return out


def random_mix(rng: random.Random, n: int) -> list[str]:
    """`n` texts of 0..40 tokens drawn from every category, with random casing and punctuation."""
    pools = [POSITIVE, NEGATIVE, NEUTRAL, BOOSTERS, NEGATIONS, EMOTICONS, EMOJI, LINKS]
    weights = [3, 3, 8, 2, 2, 1, 1, 1]
    out = []
    for _ in range(n):
        tokens = []
        for _ in range(rng.randint(0, 40)):
            word = rng.choice(rng.choices(pools, weights)[0])
            roll = rng.random()
            if roll < 0.1:
                word = word.upper()
            elif roll < 0.15:
                word = word.capitalize()
            if rng.random() < 0.2:
                word = rng.choice(PUNCT_RUNS) + word
            if rng.random() < 0.3:
                word = word + rng.choice(PUNCT_RUNS)
            tokens.append(word)
        sep = rng.choice([" ", " ", " ", "  ", "\n", " \t"])
        out.append(sep.join(tokens))
    return out


def _demo_texts() -> list[str]:
    with open(ROOT / "webapp" / "data" / "demo_mentions.jsonl", encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line in handle if json.loads(line).get("text")]


_OPENERS = ["", "", "", "", "Honestly ", "Ugh, ", "Wow! ", "So ", "Just tried it: ", "PSA: ", "lol ",
            "RT @acme: ", "NOT GOOD: ", "Hot take: ", "Update - "]
_CLAUSES = [
    "the battery life is {pos} but the screen is {neg}", "it is kind of {pos} I guess",
    "not {pos} at all", "never so {pos} in my life", "this is the shit", "yeah right, {pos} support",
    "customer service was {neg} and {neg}", "I {really} {love} it", "at least it is not {neg}",
    "sort of {neg} tbh", "{POS} {POS} {POS}", "they did not cut the mustard", "hardly {pos}",
    "the update is {neg}, the app is {neg}, everything is {neg}", "couldn't be {pos}er",
    "just enough {pos} to keep it", "{really} {neg} experience", "would NOT recommend",
    "no complaints", "it works", "shipping took 3 weeks", "price went up again",
    "what a kiss of death for the brand", "worth every penny", "waste of money",
]
_FILL = {"pos": ["good", "great", "nice", "amazing", "solid", "decent", "fine", "happy"],
         "neg": ["bad", "awful", "terrible", "slow", "buggy", "broken", "meh", "useless"],
         "really": ["really", "very", "so", "extremely", "REALLY", "totally", "quite", "kinda"],
         "love": ["love", "like", "hate", "adore", "dislike", "enjoy"]}


def _clause(rng: random.Random) -> str:
    template = rng.choice(_CLAUSES)
    return template.format(pos=rng.choice(_FILL["pos"]), neg=rng.choice(_FILL["neg"]),
                           POS=rng.choice(_FILL["pos"]).upper(), really=rng.choice(_FILL["really"]),
                           love=rng.choice(_FILL["love"]))


def realistic(n: int, seed: int = 8, duplicate_share: float = 0.15) -> list[str]:
    """`n` mention texts like social posts, reviews and news snippets: varied lengths (a few
    words to long paragraphs), emoji, URLs, hashtags, capitals, punctuation runs, negations,
    "but", "kind of", idioms; about `duplicate_share` are exact repeats of earlier texts (as
    retweets and reposts are)."""
    rng = random.Random(seed)
    base = _demo_texts()
    out: list[str] = []
    for _ in range(n):
        if out and rng.random() < duplicate_share:
            out.append(rng.choice(out[-5000:]))
            continue
        shape = rng.random()
        parts = [rng.choice(_OPENERS) + (rng.choice(base) if rng.random() < 0.5 else _clause(rng))]
        if shape > 0.4:
            parts.append(_clause(rng) + rng.choice(PUNCT_RUNS))
        if shape > 0.75:
            parts.extend(_clause(rng) + rng.choice([".", "!", "", "..."]) for _ in range(rng.randint(1, 4)))
        if shape > 0.93:  # a long post or article snippet
            parts.extend(rng.choice(base) for _ in range(rng.randint(3, 8)))
            parts.extend(_clause(rng) + "." for _ in range(rng.randint(3, 10)))
        if rng.random() < 0.35:
            parts.append("".join(rng.choices(EMOJI + EMOTICONS, k=rng.randint(1, 3))))
        if rng.random() < 0.3:
            parts.append(f"https://example.com/p/{rng.randrange(10**6)}?utm_source=x")
        if rng.random() < 0.25:
            parts.append(f"#acme{rng.choice(['', 'rocket', 'fail', 'love'])} @user{rng.randrange(500)}")
        text = " ".join(parts)
        if rng.random() < 0.05:
            text = text.upper()
        out.append(text)
    return out
