"""Refuse XML that declares entities before any XML parser builds a feed from it.

Entity declarations are what billion-laughs and quadratic-blowup bombs and XXE (file or URL
reads through `SYSTEM` entities, parameter entities pulling in remote DTDs) are made of, and no
real feed needs them. So the prolog of downloaded bytes (everything before the root element,
where a DTD must live) is read with defusedxml's hardened expat reader, which raises as soon
as it meets an entity declaration (internal, `SYSTEM`, parameter or unparsed); the rest of the
document is not parsed here (feedparser does that, tolerantly). A DOCTYPE without entities is
fine, even one naming an external DTD (RSS 0.91's Netscape DTD): external entities and
parameter entities are switched off, so that DTD is never fetched.

If expat gives up before reaching the root element (bytes it cannot decode, junk before the
declaration), the prolog is also searched textually for `<!ENTITY` in every encoding feedparser
could pick, so a document cannot hide its declarations from this check yet still reach the
parser with them. feedparser itself keeps external entities off and drops all but character
entities as a second net.
"""
from __future__ import annotations

import io
import re
from xml.sax import InputSource, SAXException
from xml.sax.handler import ContentHandler, feature_external_ges, feature_external_pes

import defusedxml
import defusedxml.expatreader

from webapp.monitors.sources.base import SourceError

CODE = "parse"   # a refused document is one we will not parse; the message says why
# Encodings feedparser may choose for the bytes (the ASCII-compatible ones read like latin-1).
_ENCODINGS = ("latin-1", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "cp037")
_FIRST_ELEMENT = re.compile(r"<[A-Za-z_:]")


class _RootReached(Exception):
    """Raised by the handler at the root element: the prolog was read without objection."""


class _PrologOnly(ContentHandler):
    def startElement(self, name, attrs):
        raise _RootReached

    def startElementNS(self, name, qname, attrs):
        raise _RootReached


def _prolog_declares_entities(content: bytes) -> bool:
    """Whether `<!ENTITY` appears before the first element in any encoding the bytes may be in."""
    for encoding in _ENCODINGS:
        text = content.decode(encoding, "ignore")
        first = _FIRST_ELEMENT.search(text)
        if "<!ENTITY" in (text[:first.start()] if first else text):
            return True
    return False


def refuse_entity_declarations(content: bytes) -> None:
    """Nothing if `content` declares no XML entities; SourceError('parse') saying so otherwise.

    JSON feeds and other non-XML bytes pass (they have no prolog to object to).
    """
    parser = defusedxml.expatreader.create_parser(forbid_dtd=False, forbid_entities=True,
                                                  forbid_external=False)
    parser.setFeature(feature_external_ges, False)   # never fetch anything the document names
    parser.setFeature(feature_external_pes, False)
    parser.setContentHandler(_PrologOnly())
    source = InputSource()
    source.setByteStream(io.BytesIO(content))
    try:
        parser.parse(source)
    except _RootReached:
        return
    except defusedxml.DefusedXmlException as exc:
        name = str(getattr(exc, "name", "") or "")[:60]   # (not the value: it may be huge)
        raise SourceError(CODE, "the feed declares XML entities, which are refused (entity "
                          f"expansion and XXE attacks): {type(exc).__name__} {name!r}") from None
    except (SAXException, ValueError, LookupError, UnicodeError):
        pass   # not XML that expat can read: the textual check below decides
    if _prolog_declares_entities(content):
        raise SourceError(CODE, "the feed declares XML entities, which are refused (entity "
                          "expansion and XXE attacks)")
