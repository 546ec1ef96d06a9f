"""Find candidate emotion labels in a description and the cues around each mention.

A description is split into sentences (quoted spans, usually the subtitle, are
kept as their own pseudo-sentences), tokenised, and matched against the lexicon
(longest phrase first, up to three words). Each mention records where it sits
(sentence position, the concluding sentence, the last emotional sentence) and
what surrounds it: negation ("not angry", "no sign of anger", "neither happy nor
sad"), hedging ("may", "possibly"), mild intensity ("a hint of"), state and
display verbs ("feeling", "shows"), other people as subject ("the audience"),
alternatives ("X or Y"). Mentions of one group are pooled into a
:class:`Candidate`; the model turns its cues into features.

Everything here is plain Python on bytes.translate/str.split tokenising, set
lookups and a few prefiltered regular expressions, because the extractor must
handle thousands of descriptions a second on one core.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ovmer.extract.cpu.vocabulary import Lexicon

# Tokenising with bytes.translate + str.split is several times faster than a regular
# expression: letters, apostrophes and hyphens stay, sentence marks become "|", double
# quotes and line breaks stay, anything else (digits, punctuation, non-ASCII) becomes a space.
_TABLE = bytearray(b" " * 256)
for _byte in b"abcdefghijklmnopqrstuvwxyz'-":
    _TABLE[_byte] = _byte
for _byte in b".!?;:":
    _TABLE[_byte] = ord("|")
_TABLE[ord('"')] = ord('"')
_TABLE[ord("\n")] = ord("\n")
_TRANSLATION = bytes(_TABLE)
_QUOTE_MARKS = {"\u201c": '"', "\u201d": '"', "\u2019": "'", "\u2018": "'"}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


NEGATORS = _words(
    "not no never neither nor without lack lacks lacking absence absent free cannot hardly barely none "
    "nothing than instead don't doesn't didn't isn't aren't wasn't weren't can't couldn't won't wouldn't "
    "shouldn't hasn't haven't hadn't"
)
NEGATION_WINDOW = 5
CONJUNCTIONS = _words("or and nor")
MODAL_HEDGES = _words(
    "may might could possibly perhaps maybe potentially probably likely possible seemingly presumably"
)
MILD = _words("slight slightly hint touch bit somewhat little mild mildly trace tinge")
FEELING_CUES = _words(
    "feel feeling feels felt experiencing experience experiences state states mood emotion emotions "
    "emotional sense is be being was"
)
DISPLAY_CUES = _words(
    "express expresses expressed expressing expression shows show showing showed display displays "
    "displaying conveys convey conveying reveals revealing reflects reflecting tone voice face facial"
)
STATE_NOUNS = _words("state states mood emotion emotions")
OTHER_SUBJECTS = _words("audience audiences viewer viewers others listener listeners interlocutor")
ALTERNATIVE = _words("or")


@dataclass(frozen=True, slots=True)
class SentenceCue:
    """A phrase pattern, searched only in sentences holding one of its ``words`` (most hold none)."""

    words: frozenset[str]
    pattern: re.Pattern[str]

    def found(self, tokens: list[str]) -> bool:
        return not self.words.isdisjoint(tokens) and self.pattern.search(" ".join(tokens)) is not None


CONCLUSION = SentenceCue(
    _words("conclusion summary summarize sum overall general therefore thus together taking infer inferred "
           "concluded conclude short"),
    re.compile(
        r"\b(?:in conclusion|in summary|to summarize|to sum up|overall|in general|therefore|thus|"
        r"taken together|taking (?:all|these|everything)|we can infer|can be inferred|"
        r"it can be concluded|can conclude|in short|all in all)\b"
    ),
)
UNCERTAINTY = SentenceCue(
    _words("difficult hard impossible unable possible able cannot can't can clear unclear insufficient enough"),
    re.compile(
        r"\b(?:(?:difficult|hard|impossible|unable|not possible|not able|cannot|can't|can not) to "
        r"(?:accurately |definitively |clearly |precisely )?(?:determine|tell|judge|infer|say|identify|know|"
        r"ascertain|pinpoint|discern)|cannot be (?:accurately |clearly )?(?:determined|inferred|judged)|"
        r"not (?:entirely )?clear|unclear|insufficient|not enough information|no (?:clear|obvious|specific) "
        r"(?:emotional )?(?:clues?|information|indication|signs?))"
    ),
)


@dataclass(slots=True)
class Candidate:
    """All mentions of one lexicon group in one description, with pooled cues.

    Counts are over mentions; positions are sentence indices scaled to 0..1.
    """

    group: str
    form: str  # the surface form of the last mention (what is output)
    mentions: int = 0
    first_pos: float = 1.0
    last_pos: float = 0.0
    last_sentence: int = -1
    negated: int = 0
    hedged: int = 0
    mild: int = 0
    quoted: int = 0
    feeling_cue: int = 0
    display_cue: int = 0
    other_subject: int = 0
    alternative: int = 0
    conclusion: int = 0
    uncertain: int = 0
    asserted_conclusion: int = 0  # in a concluding sentence, neither negated nor hedged
    statement: int = 0  # "... emotional state is X": named right after a state noun, not negated
    contexts: list[str] = field(default_factory=list)  # "prev<form" and "form>next" keys


@dataclass(slots=True)
class Description:
    """A description's candidates and the cues that concern it as a whole."""

    candidates: list[Candidate]
    sentences: int
    final_sentence: int  # index of the last sentence that mentions any candidate (-1: none)
    uncertain: bool
    has_conclusion: bool
    words: int
    statements: int  # mentions named as the state ("emotional state is X")


def sentence_words(text: str) -> list[tuple[list[str], bool]]:
    """(words, inside double quotes) of each sentence of ``text``, in order.

    A quoted stretch (usually the subtitle) becomes its own pseudo-sentence; a
    line break ends an unbalanced quote.
    """
    low = text.lower()
    for mark, plain in _QUOTE_MARKS.items():
        if mark in low:
            low = low.replace(mark, plain)
    data = low.encode("ascii", "ignore").translate(_TRANSLATION).decode("ascii")
    out: list[tuple[list[str], bool]] = []
    for line in data.split("\n"):
        quoted = False
        for sentence in line.split("|"):
            if '"' not in sentence:
                words = sentence.split()
                if words:
                    out.append((words, quoted))
                continue
            for k, part in enumerate(sentence.split('"')):
                quoted ^= k > 0
                words = part.split()
                if words:
                    out.append((words, quoted))
    return out


def find_candidates(text: str, lexicon: Lexicon) -> Description:
    """Every lexicon group mentioned in ``text``, with the cues of its mentions."""
    groups = lexicon.groups
    starts = lexicon.phrase_starts
    first_words = lexicon.first_words
    pooled: dict[str, Candidate] = {}
    sentences = sentence_words(text)
    final_sentence = -1
    uncertain_any = False
    conclusion_any = False
    statements = 0
    for s_index, (tokens, quoted) in enumerate(sentences):
        hit_words = first_words.intersection(tokens)
        if not hit_words:
            continue
        conclusion = CONCLUSION.found(tokens)
        uncertain = UNCERTAINTY.found(tokens)
        conclusion_any |= conclusion
        uncertain_any |= uncertain
        other = not OTHER_SUBJECTS.isdisjoint(tokens)
        n_tokens = len(tokens)
        consumed = 0  # tokens before this index belong to an earlier (longer) match
        previous_end, previous_negated = -9, False
        if len(hit_words) == 1 and tokens.count(next(iter(hit_words))) == 1:
            positions = [tokens.index(next(iter(hit_words)))]
        else:
            positions = [j for j, t in enumerate(tokens) if t in hit_words]
        for j in positions:
            if j < consumed:
                continue
            token = tokens[j]
            form = None
            width = 1
            seconds = starts.get(token)
            if seconds is not None and j + 1 < n_tokens:
                for phrase in seconds.get(tokens[j + 1], ()):
                    if len(phrase) == 2 or tuple(tokens[j : j + len(phrase)]) == phrase:
                        form, width = " ".join(phrase), len(phrase)
                        break
            if form is None:
                if token not in groups:
                    continue
                form = token
            consumed = j + width
            group = groups[form]
            before = tokens[max(0, j - NEGATION_WINDOW) : j]
            negated = not NEGATORS.isdisjoint(before)
            if negated and "not" in before and tokens[j - 1] != "not":
                # "not only X but also ..." is no negation of X
                k = before.index("not")
                negated = before[k + 1 : k + 2] != ["only"]
            if not negated and previous_negated and (
                j == previous_end or (j == previous_end + 1 and tokens[previous_end] in CONJUNCTIONS)
            ):
                # "not stressed or anxious": the negation covers the whole coordination
                negated = True
            previous_end, previous_negated = consumed, negated
            hedged = not MODAL_HEDGES.isdisjoint(tokens[:j])
            candidate = pooled.get(group)
            if candidate is None:
                candidate = pooled[group] = Candidate(group=group, form=form, first_pos=s_index)
            candidate.form = form
            candidate.mentions += 1
            candidate.last_sentence = s_index
            candidate.negated += negated
            candidate.hedged += hedged
            candidate.mild += not MILD.isdisjoint(before)
            candidate.quoted += quoted
            candidate.feeling_cue += not FEELING_CUES.isdisjoint(before)
            candidate.display_cue += not DISPLAY_CUES.isdisjoint(before)
            candidate.other_subject += other
            prev_word = tokens[j - 1] if j else "^"
            next_word = tokens[consumed] if consumed < n_tokens else "$"
            candidate.alternative += prev_word in ALTERNATIVE or next_word in ALTERNATIVE
            candidate.conclusion += conclusion
            candidate.uncertain += uncertain
            candidate.asserted_conclusion += conclusion and not negated and not hedged
            statement = not negated and not STATE_NOUNS.isdisjoint(before)
            candidate.statement += statement
            statements += statement
            candidate.contexts.append(f"{prev_word}<{form}")
            candidate.contexts.append(f"{form}>{next_word}")
            if not quoted:
                final_sentence = s_index
    scale = max(len(sentences) - 1, 1)
    for candidate in pooled.values():
        candidate.first_pos /= scale
        candidate.last_pos = candidate.last_sentence / scale
    return Description(
        candidates=list(pooled.values()),
        sentences=len(sentences),
        final_sentence=final_sentence,
        uncertain=uncertain_any,
        has_conclusion=conclusion_any,
        words=sum(len(tokens) for tokens, _ in sentences),
        statements=statements,
    )
