"""RowsLRU: an LRU map by key hash whose one comparison decides; keys of one hash replace each
other (a miss), never answer for each other."""
from __future__ import annotations

from webapp.core.rows_lru import RowsLRU


class Same:
    """A key whose hash every other Same shares."""

    def __init__(self, value):
        self.value = value

    def __hash__(self):
        return 7

    def __eq__(self, other):
        return isinstance(other, Same) and self.value == other.value


def test_rows_lru_answers_equal_keys_and_drops_the_least_recent():
    memo = RowsLRU(2)
    rows = tuple((i, float(i), f"text {i}") for i in range(500))
    memo.put(rows, "body")
    assert memo.get(tuple(list(rows))) == "body"          # an equal key, another object
    assert memo.get(rows[:-1]) is None and memo.get(rows[:-1], "none") == "none"
    memo.put("b", 2)
    assert memo.get(rows) == "body"                        # used last: "b" is the oldest now
    memo.put("c", 3)
    assert (memo.get("b"), memo.get(rows), memo.get("c"), len(memo)) == (None, "body", 3, 2)


def test_rows_lru_keys_of_one_hash_never_answer_for_each_other():
    memo = RowsLRU(4)
    memo.put(Same(1), "one")
    assert memo.get(Same(2)) is None
    memo.put(Same(2), "two")
    assert (memo.get(Same(2)), memo.get(Same(1)), len(memo)) == ("two", None, 1)
