"""Term extraction (pure): words and 2-3-word phrases, stopwords per language, caps, speed."""
from __future__ import annotations


import pytest

from webapp.insights.terms import extract as ex
from webapp.insights.terms import stopwords


def test_words_and_phrases_lower_cased_without_urls_handles_and_numbers():
    terms = ex.extract("Acme's Customer Service is GREAT! https://acme.example/x?y=1 @bob #AcmeFail 2024 $99")
    assert terms[:5] == ["acme", "customer", "service", "great", "#acmefail"]
    assert "customer service" in terms and "acme's customer service" in terms
    assert not [t for t in terms if "http" in t or "bob" in t or any(c.isdigit() for c in t)]


def test_phrases_never_start_or_end_with_a_stopword_and_stay_inside_a_run():
    terms = ex.extract("Bank of America raises rates. Rates go up, loans go down")
    assert "bank of america" in terms
    assert "of america" not in terms and "bank of" not in terms
    assert "rates rates" not in terms          # the full stop ends the run
    assert "up loans" not in terms             # so does the comma
    for term in terms:
        words = term.split()
        assert words[0] not in stopwords.STOPWORDS["en"] and words[-1] not in stopwords.STOPWORDS["en"]


@pytest.mark.parametrize("text, lang, absent, present", [
    ("Der Kundenservice von Acme ist leider sehr schlecht", "de", {"der", "von", "ist", "sehr"}, {"kundenservice"}),
    ("Le service client de Acme est vraiment nul", "fr", {"le", "de", "est"}, {"service client"}),
    ("El servicio de Acme es muy malo y lento", "es", {"el", "de", "es", "muy"}, {"servicio", "malo"}),
])
def test_stopwords_per_language_given_or_guessed(text, lang, absent, present):
    for given in (lang, None):                 # `lang` given, or guessed from the stopwords hit
        terms = set(ex.extract(text, given))
        assert not absent & terms, (given, terms)
        assert present <= terms


def test_german_war_is_a_stopword_only_in_german():
    assert "war" in ex.extract("Trade war with Acme rivals escalates")
    assert "war" not in ex.extract("Der Service war gut und die Lieferung war schnell", "de")


def test_hashtags_are_kept_and_not_glued_into_phrases():
    terms = ex.extract("Loving the #RocketLaunch today with #acme")
    assert "#rocketlaunch" in terms and "#acme" in terms
    assert not [t for t in terms if " " in t and "#" in t]


def test_each_term_once_and_capped_per_mention():
    text = " ".join(f"word{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(300))
    terms = ex.extract(text + " " + text)
    assert len(terms) == len(set(terms))
    assert len(terms) <= ex.MAX_WORDS + ex.MAX_PHRASES + ex.MAX_PHRASES3
    assert all(len(t) <= ex.MAX_TERM for t in ex.extract("x" * 500 + " " + "y" * 70))


@pytest.mark.parametrize("text", ["", "   ", "123 456", "@a @b", "https://x.y", "!!! ???", "\x00\ufeff",
                                  "a" * 100_000, "#", "# # #", "'-' -- ''", "_ __ ___"])
def test_hostile_or_empty_texts(text):
    terms = ex.extract(text)
    assert all(t and len(t) <= ex.MAX_TERM and t == t.strip() for t in terms)


def test_search_query_quotes_phrases():
    assert ex.search_query("customer service") == '"customer service"'
    assert ex.search_query("#acme") == "#acme"


def test_phrases_are_found_by_the_mentions_search_substring():
    text = "Honestly Acme's customer service is the best in town"
    for term in ex.extract(text):
        if " " in term:
            assert term in text.lower()
