"""The batched language detector (numpy, insights/ngram_batch.py) answers as the one-text detector
(py3langid's own classifier) does, text for text, on a multi-language sample."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from webapp.insights import languages
from webapp.insights.ngram_batch import classify_many

SAMPLE = Path(__file__).parent / "data" / "languages_sample.jsonl"

# Beyond the labelled sample: other scripts, shouting, long and mixed texts, noise, repeats.
EXTRA = [
    "Η εξυπηρέτηση πελατών δεν απαντά ποτέ στα μηνύματα μας",
    "خدمة العملاء لا ترد أبدا على الرسائل",
    "บริการลูกค้าไม่เคยตอบข้อความของเราเลย",
    "고객 서비스는 우리 메시지에 절대 답하지 않습니다",
    "客服从来不回复我们的消息，太让人失望了",
    "Служба поддержки никогда не отвечает на наши сообщения",
    "THE DELIVERY WAS LATE AGAIN AND NOBODY CARES",
    "DER KUNDENDIENST ANTWORTET NIE AUF UNSERE NACHRICHTEN",
    "Müşteri hizmetleri mesajlarımıza asla cevap vermiyor",
    "Klantenservice reageert nooit op onze berichten, echt waardeloos",
    "Obsługa klienta nigdy nie odpowiada na nasze wiadomości",
    "Asiakaspalvelu ei koskaan vastaa viesteihimme",
    "Le produit est arrivé cassé 😡😡 https://example.com/p/1?utm=x #acme @shop 2024",
    "Ça marche très bien. " * 40,
    "Das Paket kam zu spät. " * 12 + "But the support team was great and they sent a new one the next day.",
    "lol", "👍👍👍", "!!!???", "1234567890 1234567890", "ＡＢＣ ｆｕｌｌ ｗｉｄｔｈ ｌｅｔｔｅｒｓ ｈｅｒｅ",
    "e\u0301te\u0301 a\u0300 la plage avec les enfants, c'e\u0301tait ge\u0301nial",   # decomposed accents (NFC)
    "x² + y² = z², ½ of the time, Ⅻ o'clock and the usual suspects",
    "Customer service never answers",
]


def _texts() -> list[str]:
    rows = [json.loads(line)["text"] for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    return rows + EXTRA + rows[:5]   # repeats: judged once, answered for each


def test_batched_detector_answers_as_the_one_text_detector():
    texts = _texts()
    one_by_one = [languages.detect(text) for text in texts]
    assert languages.detect_many(texts) == one_by_one
    assert len(set(one_by_one)) >= 12   # the sample really is multi-language
    # the same, one text a batch and in batches of other sizes (other sort orders, padding)
    assert [languages.detect_many([text])[0] for text in texts] == one_by_one
    assert languages.detect_many(texts[::-1]) == one_by_one[::-1]


def test_batched_probabilities_equal_py3langid_s():
    """The model's raw answer, before the rule: same language, probability within float rounding."""
    texts = [languages.clean(text)[:languages.DETECT_CHARS] for text in _texts()] + ["", "   ", "\U0001F600"]
    identifier = languages._get()
    batched = classify_many(languages._model(), texts)
    for text, (lang, probability) in zip(texts, batched):
        expected, expected_probability = identifier.classify(text)
        assert lang == expected, text
        assert probability == pytest.approx(float(expected_probability), abs=1e-4), text


def test_batched_detector_in_chunks(monkeypatch):
    """Texts beyond one walk's chunk are walked in several; answers unchanged."""
    import webapp.insights.ngram_batch as ngram_batch

    texts = _texts()
    whole = languages.detect_many(texts)
    monkeypatch.setattr(ngram_batch, "CHUNK", 7)
    assert languages.detect_many(texts) == whole


@pytest.mark.parametrize("text", ["", "a", "Straße", "x" * 5000, "\u00e9" * 300, "🙂 " * 200, "İstanbul İzmir"])
def test_letters_counts_as_isalpha(text):
    assert languages.letters(text) == sum(ch.isalpha() for ch in text)


def test_detect_many_of_nothing():
    assert languages.detect_many([]) == []


@pytest.mark.parametrize("text", [
    "see https://example.com/a?b=c and www.example.org/x, @shop #acme_2 2024", "HTTP://EXAMPLE.COM stays",
    "h w @ # www. http:// https:// hxxp://x", "digits ² ١٢ ３ 12,5", "@@## #. @.x #x.y.z", "whatever 😡 wow",
    "", "a" * 500, "http" * 50, "w" * 300 + "ww.x",
])
def test_the_noise_pattern_removes_what_the_plain_alternation_does(text):
    """The lookahead in front of `_NOISE` only skips positions that start none of its four
    alternatives: the same text as the plain alternation leaves."""
    import re

    plain = re.compile(r"https?://\S+|www\.\S+|[@#][\w.]+|\d+", re.UNICODE)
    assert languages.clean(text) == plain.sub(" ", text)
