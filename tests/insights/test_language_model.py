"""The detector's model as a mapped file (webapp/insights/language_model.py): the same answers as
py3langid's own loading, built once per cache folder, and a broken or unwritable cache never
breaks detection (py3langid's own loading serves instead)."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from webapp.insights import language_model, languages

SAMPLE = Path(__file__).parent / "data" / "languages_sample.jsonl"
DEMO = Path(languages.__file__).resolve().parents[1] / "data" / "demo_mentions.jsonl"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One model file for the module (building it takes a few seconds)."""
    folder = tmp_path_factory.mktemp("cache")
    path = language_model.model_path(languages.LANGUAGES, folder)
    assert language_model.build(path, languages.LANGUAGES), "the child process could not build the file"
    return path


def _texts() -> list[str]:
    """The labelled multi-language sample and the demo's mentions, as the detector reads them."""
    texts = [json.loads(line)["text"] for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    texts += [json.loads(line)["text"] for line in DEMO.read_text(encoding="utf-8").splitlines()]
    return [languages.clean(text)[:languages.DETECT_CHARS] for text in texts] + ["", "a", "🙂🙂", "x" * 500]


def _mapped_bytes(path: Path) -> int:
    """Resident bytes of this process's mappings of `path` (/proc/self/smaps)."""
    total, current = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
            current = line.endswith(str(path))
        elif current and line.startswith("Rss:"):
            total += int(line.split()[1]) * 1024
    return total


def test_the_mapped_model_answers_exactly_as_py3langid(built):
    mapped = language_model.read(built)
    stock = language_model.in_memory(languages.LANGUAGES)
    assert isinstance(mapped.tk_nextmove, memoryview) and mapped.nb_classes == stock.nb_classes
    assert len(mapped.nb_classes) == len(languages.LANGUAGES)
    texts = _texts()
    answers = [mapped.classify(text) for text in texts]
    assert answers == [stock.classify(text) for text in texts]   # language and probability, exactly
    assert {lang for lang, _ in answers} >= {"en", "fr", "de", "es", "ja", "ru"}
    assert [mapped.rank(t) for t in texts[:20]] == [stock.rank(t) for t in texts[:20]]


def test_a_process_holds_only_the_pages_its_texts_walk(built):
    mapped = language_model.read(built)
    for text in _texts()[:40]:
        mapped.classify(text)
    assert 0 < _mapped_bytes(built) < built.stat().st_size * 0.8


def test_load_builds_once_then_maps_the_same_file(built, tmp_path, monkeypatch):
    monkeypatch.setenv("SENTIMON_CACHE", str(tmp_path / "cache"))
    path = language_model.model_path(languages.LANGUAGES)
    assert path.parent == tmp_path / "cache" and not path.exists()
    path.parent.mkdir()
    path.write_bytes(built.read_bytes())           # as if another process had built it
    first = language_model.load(languages.LANGUAGES)
    stamp = path.stat().st_mtime_ns
    second = language_model.load(languages.LANGUAGES)
    assert isinstance(first.tk_nextmove, memoryview) and isinstance(second.tk_nextmove, memoryview)
    assert path.stat().st_mtime_ns == stamp and os.listdir(path.parent) == [path.name]
    assert first.classify("Le service client ne répond jamais") == ("fr", pytest.approx(1.0, abs=0.2))


def test_another_language_list_or_model_is_another_file(tmp_path):
    one = language_model.model_path(["en", "fr"], tmp_path)
    assert one != language_model.model_path(["en", "de"], tmp_path)
    assert one == language_model.model_path(["fr", "en"], tmp_path)
    with pytest.raises(ValueError, match="no"):
        language_model.restricted(["en", "zz"])


@pytest.mark.parametrize("damage", ["empty", "foreign", "truncated", "other_format", "bad_header"])
def test_a_broken_file_falls_back_to_py3langid_and_detection_goes_on(built, tmp_path, monkeypatch, damage):
    monkeypatch.setenv("SENTIMON_CACHE", str(tmp_path))
    path = language_model.model_path(languages.LANGUAGES)
    good = built.read_bytes()
    head = len(language_model.MAGIC) + 8
    size = int.from_bytes(good[len(language_model.MAGIC):head], "little")
    header = good[head:head + size]
    broken = {"empty": b"", "foreign": b"\x00" * 4096, "truncated": good[:len(good) // 2],
              "other_format": good[:head] + header.replace(b'"format": 1', b'"format": 9') + good[head + size:],
              "bad_header": good[:head] + b"{" * size + good[head + size:]}[damage]
    path.write_bytes(broken)
    with pytest.raises(ValueError):
        language_model.read(path)
    identifier = language_model.load(languages.LANGUAGES)
    assert not isinstance(identifier.tk_nextmove, memoryview)   # py3langid's own arrays
    assert identifier.classify("Der Kundendienst antwortet nie auf meine Fragen")[0] == "de"


def test_an_unwritable_cache_folder_falls_back(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SENTIMON_CACHE", str(blocker / "cache"))
    identifier = language_model.load(languages.LANGUAGES)
    assert identifier.classify("Der Kundendienst antwortet nie auf meine Fragen")[0] == "de"
    assert not (blocker / "cache").exists()


def test_cache_folder_setting():
    assert language_model.cache_dir({"SENTIMON_CACHE": "/x/y"}) == Path("/x/y")
    assert language_model.cache_dir({"XDG_CACHE_HOME": "/c"}) == Path("/c/sentimon")
    assert language_model.cache_dir({}).parts[-2:] == (".cache", "sentimon")


def test_building_a_new_file_removes_the_old_ones(tmp_path):
    keep = tmp_path / "langid-new.bin"
    keep.write_bytes(b"new")
    for name in ("langid-old.bin", "langid-other.bin", "langid-new.bin123.tmp", "unrelated.txt"):
        (tmp_path / name).write_bytes(b"x")
    fresh_tmp = tmp_path / "langid-new.bin456.tmp"          # being written right now by another build
    fresh_tmp.write_bytes(b"x")
    os.utime(tmp_path / "langid-new.bin123.tmp", (1, 1))     # left by a build that died long ago
    removed = language_model.prune(keep)
    assert sorted(p.name for p in removed) == ["langid-new.bin123.tmp", "langid-old.bin", "langid-other.bin"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["langid-new.bin", "langid-new.bin456.tmp", "unrelated.txt"]
