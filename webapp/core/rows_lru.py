"""An LRU map for keys made of many rows (a dashboard page's reads, the feed's 500 candidates):
each key is hashed once per lookup and, on a hit, compared once with the key stored.

cachetools' LRUCache looks a key up three times per hit (`in`, the item, its place in the
order), each time hashing the whole key (tuples do not keep their hash) and comparing it with
the stored one, element by element: for the dashboard's reads that was a few tenths of a
millisecond a page. Here the order is kept by the hash (an int), and the one comparison of the
whole key decides: two keys of one hash only take each other's place (a miss, never a wrong
answer).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Hashable


class RowsLRU:
    """`get(key)` / `put(key, value)`, at most `size` entries, least recently used dropped first;
    safe across threads (the comparison runs outside the lock)."""

    def __init__(self, size: int):
        self._size = size
        self._slots: OrderedDict = OrderedDict()   # hash -> (key, value)
        self._lock = threading.Lock()

    def get(self, key: Hashable, default=None):
        digest = hash(key)
        with self._lock:
            found = self._slots.get(digest)
            if found is not None:
                self._slots.move_to_end(digest)
        if found is not None and found[0] == key:
            return found[1]
        return default

    def put(self, key: Hashable, value) -> None:
        digest = hash(key)
        with self._lock:
            self._slots[digest] = (key, value)
            self._slots.move_to_end(digest)
            while len(self._slots) > self._size:
                self._slots.popitem(last=False)

    def __len__(self) -> int:
        return len(self._slots)
