"""One parser for every label list found in files and LLM replies.

Accepted inputs: ``[happy, sad]``, ``['happy', "sad"]``, ``happy, sad``, ``[]``,
``""``, ``None``/NaN, numpy arrays and Python lists/tuples (parsed item by
item), and replies with chatter around the list (``Output: [happy]``,
``So the output is:["a", "b"]``).

Rules, in order:

1. ``None``, NaN and empty text give ``[]``. Lists, tuples and arrays are parsed
   item by item and concatenated.
2. If the text contains bracketed groups ``[...]``, only their contents are
   read (every group, in order; an unclosed ``[`` runs to the end). Otherwise,
   chatter before the last colon is dropped (``Output: happy`` → ``happy``).
3. The remaining text is split on commas, semicolons and line breaks. Each
   piece keeps only what follows its last colon, loses inner brackets, is
   stripped of whitespace, quotes, brackets and trailing ``.!?``, and is
   lower-cased. Empty pieces are dropped; so is any piece of more than
   ``MAX_LABEL_WORDS`` words, since that is a sentence, not a label.
4. Duplicates are removed, keeping the first occurrence.

The parser never raises on text; it is idempotent on its own output
(``parse_labels(parse_labels(x)) == parse_labels(x)``). Non-text objects
other than the containers above raise :class:`LabelFormatError`.

That tolerance is for label lists. An LLM's reply is first checked with
:func:`label_reply_problem`: a reply without any ``[...]`` that is a refusal
("Sorry, I cannot help with that."), a sentence, or that yields no label is
not a label list, and the extract stage stores it as an error record (raw text
kept) instead of turning its words into labels.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from ovmer.errors import LabelFormatError

MAX_LABEL_WORDS = 5
_GROUP = re.compile(r"\[([^\[\]]*)(?:\]|$)")
_SPLIT = re.compile(r"[,;\n\r]+")
_STRIP = " \t\"'`[]{}()*-•.!?\u201c\u201d\u2018\u2019"


def _clean_piece(piece: str) -> str:
    # A label never keeps a colon (what precedes it is chatter, as in rule 2) or an inner
    # bracket; either would be read differently on a second pass, breaking idempotence.
    piece = piece.rsplit(":", 1)[-1].replace("[", " ").replace("]", " ")
    text = " ".join(piece.strip(_STRIP).split()).lower()
    return text.strip(_STRIP)


def _pieces_of_text(text: str) -> list[str]:
    if "[" in text:
        body = [m.group(1) for m in _GROUP.finditer(text)]
    elif ":" in text:
        body = [text.rsplit(":", 1)[1]]
    else:
        body = [text]
    out: list[str] = []
    for chunk in body:
        for piece in _SPLIT.split(chunk):
            label = _clean_piece(piece)
            if label and len(label.split()) <= MAX_LABEL_WORDS:
                out.append(label)
    return out


def _pieces(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, float):
        if math.isnan(value):
            return []
        raise LabelFormatError(f"{where}: expected a label list or text, got the number {value!r}")
    if isinstance(value, str):
        return _pieces_of_text(value)
    if isinstance(value, bytes):
        return _pieces_of_text(value.decode("utf-8", errors="replace"))
    shape = getattr(value, "shape", None)
    if shape is not None and hasattr(value, "tolist"):  # numpy arrays and scalars
        return _pieces(value.tolist(), where)
    if isinstance(value, (list, tuple)):
        out: list[str] = []
        for item in value:
            out.extend(_pieces(item, where))
        return out
    raise LabelFormatError(
        f"{where}: expected a label list or text, got {type(value).__name__} {value!r:.60}"
    )


def parse_labels(value: Any, where: str = "label list") -> list[str]:
    """Parse anything that holds emotion labels into a clean, de-duplicated list.

    ``where`` names the file/sample in error messages.
    """
    return list(dict.fromkeys(_pieces(value, where)))


_REFUSAL = re.compile(
    r"^\W*(?:sorry|i'?m sorry|i am sorry|i apologi[sz]e|unfortunately|as an ai\b|i can(?:no|'|’)t\b|"
    r"i cannot\b|i(?: am|'m|’m) (?:unable|not able)\b|i won'?t\b|i do not|i don'?t)",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"\w[.!?]+[\"')\]]*\s*$")


def label_reply_problem(reply: str) -> str | None:
    """Why an LLM reply is not a label list (a refusal, prose, no label), or None when it is one.

    A reply holding a bracketed list is a list, whatever chatter surrounds it. Without
    brackets it must read as comma-separated labels: no refusal, no sentence (a piece of
    three or more words ending in ``.``, ``!`` or ``?``, or of more than ``MAX_LABEL_WORDS``
    words), and at least one label.
    """
    text = reply.strip()
    if not text:
        return "the reply is empty"
    if "[" in text:
        return None
    if _REFUSAL.match(text):
        return "the reply is a refusal, not a label list"
    for piece in _SPLIT.split(text.rsplit(":", 1)[-1] if ":" in text else text):
        words = piece.split()
        if len(words) > MAX_LABEL_WORDS or (len(words) >= 3 and _SENTENCE_END.search(piece)):
            return "the reply is prose, not a label list"
    if not parse_labels(text):
        return "the reply holds no label"
    return None


def format_labels(labels: Iterable[str]) -> str:
    """The authors' file format: ``[happy, sad]``."""
    return "[" + ", ".join(labels) + "]"
