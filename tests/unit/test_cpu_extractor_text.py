"""The CPU label extractor's text handling: sentences, negation scope and cues (no assets)."""

from __future__ import annotations

from ovmer.extract.cpu.candidates import find_candidates, sentence_words
from ovmer.extract.cpu.vocabulary import Lexicon

TOY_LEXICON = Lexicon.from_forms(
    {"angry": "angry", "anger": "angry", "anxious": "anxious", "stressed": "stressed", "happy": "happy",
     "proud": "proud", "at ease": "at ease", "sad": "sad"}
)


def test_sentences_keep_quoted_spans_apart_and_tokenise_plainly() -> None:
    out = sentence_words('He said: "I am not happy. Go!" and left.\nShe is \u201csad\u201d. 42 times')
    assert out == [
        (["he", "said"], False), (["i", "am", "not", "happy"], True), (["go"], True),
        (["and", "left"], False), (["she", "is"], False), (["sad"], True), (["times"], False),
    ]


def test_negation_covers_coordinations_but_not_not_only() -> None:
    found = {c.group: c for c in find_candidates(
        "He does not appear to be stressed or anxious. She is not only happy but also proud. "
        "No sign of anger at all.", TOY_LEXICON).candidates}
    assert found["stressed"].negated == found["anxious"].negated == 1
    assert found["happy"].negated == found["proud"].negated == 0
    assert found["angry"].negated == 1 and found["angry"].form == "anger"


def test_cues_phrases_hedges_quotes_and_conclusions() -> None:
    description = find_candidates(
        'The subtitle says "I am so angry". He may be anxious. In conclusion, his emotional state is '
        "at ease and happy.", TOY_LEXICON)
    found = {c.group: c for c in description.candidates}
    assert list(found) == ["angry", "anxious", "at ease", "happy"]
    assert found["angry"].quoted == 1 and found["anxious"].quoted == 0
    assert found["anxious"].hedged == 1 and found["happy"].hedged == 0
    assert found["at ease"].conclusion == found["happy"].conclusion == 1 and found["anxious"].conclusion == 0
    assert found["at ease"].statement == 1  # named right after "state is"
    assert description.has_conclusion
    assert description.final_sentence == found["happy"].last_sentence
