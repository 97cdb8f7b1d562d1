"""The language detector's model as one uncompressed file that every process maps, read-only.

py3langid ships its model LZMA-compressed; each process that loaded it held its own ~48 MB copy
(the byte automaton's 39 MB transition table, the feature table, per-state arrays), made in
private memory that stays resident. Here the model, restricted to the languages the detector
chooses from, is written once per installation of py3langid as a plain array file in a per-user
cache folder (`SENTIMON_CACHE`, else `$XDG_CACHE_HOME/sentimon`, else `~/.cache/sentimon`)
and mapped with mmap: a process holds only the pages its texts touch, the kernel shares them
between processes (the web and every worker) and can drop them under memory pressure.

The file is built in a short-lived child process (`python -m webapp.insights.language_model
PATH LANG ...`), so the decompression's peak never stays in a long-lived worker; without a
writable cache folder the model is restricted in memory as before. The identifier is py3langid's
own class with the same arrays (the feature table as float32, exactly the float16 values), so
its answers are py3langid's.
"""
from __future__ import annotations

import hashlib
import json
import mmap
import os
import subprocess
import sys
import tempfile
import time
from array import array
from pathlib import Path
from typing import Sequence

MAGIC = b"SENTIMON-LANGID\n"
FORMAT = 1
ALIGN = 4096  # each array starts on a page of its own
BUILD_TIMEOUT = 120.0
NAMES = ("columns", "priors", "nextmove", "row", "rowbase", "output")


def cache_dir(environ=os.environ) -> Path:
    """Where the model file lives (pure given the environment)."""
    chosen = environ.get("SENTIMON_CACHE") or ""
    if chosen:
        return Path(chosen)
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sentimon"


def model_path(languages: Sequence[str], folder: Path | None = None) -> Path:
    """The file for this py3langid model and these languages (another version or list: another file)."""
    from py3langid.langid import MODEL_DIR, MODEL_FILE

    source = (MODEL_DIR / MODEL_FILE).resolve()   # one file whichever path (symlink) reached the package
    stat = source.stat()
    key = json.dumps([FORMAT, str(source), stat.st_size, stat.st_mtime_ns, sorted(languages), sys.byteorder,
                      array("I").itemsize, array("q").itemsize])
    return (folder or cache_dir()) / f"langid-{hashlib.sha256(key.encode()).hexdigest()[:16]}.bin"


def restricted(languages: Sequence[str]) -> dict:
    """py3langid's model cut down to `languages` (its own order), as the arrays the file holds."""
    import numpy as np
    from py3langid.langid import MODEL_DIR, MODEL_FILE
    from py3langid.modelio import load_model

    ptc, pc, classes, nextmove, row, output = load_model(MODEL_DIR / MODEL_FILE)
    wanted = set(languages)
    unknown = wanted - set(classes)
    if unknown:
        raise ValueError(f"the language model has no {sorted(unknown)}")
    keep = [i for i, code in enumerate(classes) if code in wanted]
    return {"classes": [classes[i] for i in keep],
            "columns": np.ascontiguousarray(np.asarray(ptc)[:, keep].T, dtype=np.float32),  # classes x features
            "priors": np.asarray(pc, dtype=np.float32)[keep],
            "nextmove": np.frombuffer(nextmove, dtype=np.uint32 if nextmove.itemsize == 4 else np.uint16),
            "row": np.frombuffer(row, dtype=np.uint32 if row.itemsize == 4 else np.uint16),
            "rowbase": np.asarray(row, dtype=np.int64) << 8,   # py3langid's pre-shifted row offsets
            "output": np.asarray(output, dtype=np.int32)}


def write(path: Path, model: dict) -> None:
    """The file, written beside its place and renamed into it (readers never see half a file)."""
    import numpy as np

    arrays, offset, header = {}, 0, {"format": FORMAT, "classes": model["classes"], "arrays": {}}
    for name in NAMES:
        data = np.ascontiguousarray(model[name])
        arrays[name] = data
        header["arrays"][name] = {"offset": offset, "dtype": data.dtype.str, "shape": list(data.shape)}
        offset += -(-data.nbytes // ALIGN) * ALIGN
    head = json.dumps(header).encode()
    start = -(-(len(MAGIC) + 8 + len(head)) // ALIGN) * ALIGN
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(MAGIC + len(head).to_bytes(8, "little") + head)
            for name, data in arrays.items():
                out.seek(start + header["arrays"][name]["offset"])
                out.write(data.tobytes())
            out.truncate(start + offset)
            out.flush()
            os.fsync(out.fileno())  # written back, so that readers can drop its cached pages
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    with open(path, "rb") as f:
        _recache(f.fileno())


def read(path: Path):
    """The identifier over the mapped file; ValueError when the file is not one of ours."""
    import numpy as np
    from py3langid.langid import LanguageIdentifier

    with open(path, "rb") as f:
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    if hasattr(mapped, "madvise"):  # no readahead: a text walks a few scattered rows
        mapped.madvise(mmap.MADV_RANDOM)
    if mapped[:len(MAGIC)] != MAGIC:
        raise ValueError(f"{path} is not a language model file")
    try:
        size = int.from_bytes(mapped[len(MAGIC):len(MAGIC) + 8], "little")
        header = json.loads(mapped[len(MAGIC) + 8:len(MAGIC) + 8 + size])
        if header.get("format") != FORMAT:
            raise ValueError(f"{path} has another format")
        start = -(-(len(MAGIC) + 8 + size) // ALIGN) * ALIGN
        view, parts = memoryview(mapped), {}
        for name in NAMES:
            spec = header["arrays"][name]
            dtype = np.dtype(spec["dtype"])
            first = start + int(spec["offset"])
            last = first + int(np.prod(spec["shape"])) * dtype.itemsize
            if not start <= first <= last <= len(mapped):
                raise ValueError(f"{path} is truncated")
            # numpy views for the tables; plain memoryviews for what the automaton's Python loop
            # indexes one byte at a time (they index fastest)
            parts[name] = (np.frombuffer(mapped, dtype=dtype, count=(last - first) // dtype.itemsize,
                                         offset=first).reshape(spec["shape"]) if name in ("columns", "priors")
                           else view[first:last].cast(dtype.char))
        classes = [str(code) for code in header["classes"]]
        states = len(parts["row"])
        if (parts["columns"].shape[0] != len(classes) or parts["priors"].shape != (len(classes),)
                or len(parts["rowbase"]) != states or len(parts["output"]) != states or len(parts["nextmove"]) % 256):
            raise ValueError(f"{path} has arrays of the wrong shapes")
        identifier = LanguageIdentifier(parts["columns"].T, parts["priors"], classes, parts["nextmove"],
                                        parts["output"], norm_probs=True, tk_row=())
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path} has an unreadable header ({exc!r})") from None
    identifier.tk_row, identifier._rowbase = parts["row"], parts["rowbase"]
    return identifier


def _recache(fd: int) -> None:
    """Read the new file into the page cache again, page by page. Its write left it cached as large
    folios (2 MB), and a fault maps a whole folio into the process; dropped and read back by
    WILLNEED, it is cached in single pages, and a process maps only the rows its texts walk
    (MADV_RANDOM: no readahead into the mapping) and the neighbours the kernel maps with each fault."""
    if hasattr(os, "posix_fadvise"):
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass


def in_memory(languages: Sequence[str]):
    """py3langid's own loading, restricted (no cache folder to write to)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(languages))
    return identifier


def build(path: Path, languages: Sequence[str]) -> bool:
    """Write the file in a child process (its memory peak ends with it); False when that failed."""
    argv = [sys.executable, "-m", __name__, str(path), *languages]
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=BUILD_TIMEOUT)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0 and path.exists()


def load(languages: Sequence[str]):
    """The detector restricted to `languages`, from the mapped file (built on first use)."""
    try:
        path = model_path(languages)
        if not path.exists() and not build(path, languages):
            return in_memory(languages)
        return read(path)
    except (OSError, ValueError):
        return in_memory(languages)


def prune(keep: Path, now: float | None = None) -> list[Path]:
    """Remove the folder's other model files (another py3langid or language list: 52 MB each on
    disk; a process that maps one keeps its pages) and half-written ones older than an hour."""
    removed, now = [], time.time() if now is None else now
    for other in keep.parent.glob("langid-*"):
        try:
            stale = other.suffix == ".tmp" and now - other.stat().st_mtime > 3600
            if other != keep and (other.suffix == ".bin" or stale):
                other.unlink()
                removed.append(other)
        except OSError:  # gone already (another build pruned it), or not ours to remove
            pass
    return removed


if __name__ == "__main__":  # python -m webapp.insights.language_model PATH LANG [LANG ...]
    write(Path(sys.argv[1]), restricted(sys.argv[2:]))
    prune(Path(sys.argv[1]))
