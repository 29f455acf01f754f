"""Spoken text made readable and countable: turn cleaning, sentence splitting, tokens and stems.

A transcript is not prose. People say "um" and "you know", start a clause and restart it ("we sh-
we should"), repeat words ("the the"); transcription corpora add annotations (QMSum's
``{vocalsound}``, ``{disfmarker}``, ``{gap}``) and their own spelling (``D_V_D_``, ``do n't``).
:func:`clean` removes all of that from one turn; :func:`sentences` splits the result; and
:func:`content_stems` gives the stemmed content words the summarizer counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

import snowballstemmer


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Corpus annotations: not speech. ``{disfmarker}`` marks where a speaker broke off (see clean).
_MARKER = re.compile(r"\{\s*(\w+)\s*\}")
_DISFLUENCY = "\x00"
#: AMI spells letters of an acronym with underscores: ``D_V_D_``, ``C_D_s``.
_SPELLED = re.compile(r"\b((?:[A-Za-z]_){2,})")
#: The corpora's tokenised spelling: "do n't", "we 're", "it 's", "word ," -> "don't", "word,".
_CLITIC = re.compile(r"\s+(n't|'(?:s|re|ve|ll|d|m))\b", re.I)
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:?!%])")
_DASHES = re.compile(r"\s+(?:--+|—|–)\s*")

#: Sounds and set phrases that carry no content, wherever they stand.
FILLERS = _wordset("um umm uh uhh uhm uh-huh um-hmm mm mmm mm-hmm hmm hm erm er ah eh huh mhm")
FILLER_PHRASES = (("you", "know"), ("i", "mean"))
#: Words that open a spoken sentence without adding to it ("So, okay, the budget is...").
_OPENERS = _wordset("so okay ok oh well yeah yes right alright and but um uh 'kay kay")
#: Short real words: any other one- or two-letter word cut off at a disfluency is a fragment.
_SHORT_WORDS = _wordset(
    "a an am as at be by do go he if in is it me my no of oh ok on or so to up us we mr ms dr st"
    " tv pc ex ha hi yo ye"
)

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def clean(text: str) -> str:
    """One turn as readable text: no annotations, fillers, false starts or repeated words."""
    text = _MARKER.sub(lambda m: _DISFLUENCY if m[1].lower() == "disfmarker" else " ", text)
    text = _DASHES.sub(f" {_DISFLUENCY} ", text)
    text = re.sub(r"(?<=\w) - (?=\w)", "-", text)
    text = _SPELLED.sub(lambda m: m[1].replace("_", ""), text)
    text = _CLITIC.sub(r"\1", text)
    tokens = _drop_fillers([t for t in re.split(r"\s+", _retokenise(text)) if t])
    tokens = _drop_false_starts(tokens)
    tokens = _drop_repeats(tokens)
    return _join(tokens)


def _retokenise(text: str) -> str:
    """Punctuation and the disfluency mark as tokens of their own, separated by spaces."""
    text = text.replace(_DISFLUENCY, f" {_DISFLUENCY} ")
    return re.sub(r"(?<=\w)([,;:?!]|\.(?=\s|$))", r" \1", text)


def _drop_fillers(tokens: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        low = tokens[i].lower()
        if low in FILLERS:
            i += 1
            continue
        pair = (low, tokens[i + 1].lower()) if i + 1 < len(tokens) else None
        if pair in FILLER_PHRASES:
            i += 2
            continue
        out.append(tokens[i])
        i += 1
    return out


def _drop_false_starts(tokens: list[str]) -> list[str]:
    """Remove what a speaker abandoned: cut-off words ("sh-") and restarted clauses.

    At a break (``{disfmarker}`` or a dash) the words since the last punctuation are a false
    start when the speaker restarts with one of them ("we should -- we must"); otherwise only a
    fragment of a word just before the break goes ("that th -- your mike").
    """
    out: list[str] = []
    for i, token in enumerate(tokens):
        if token != _DISFLUENCY:
            if not (len(token) > 1 and token.endswith("-") and token[:-1].isalpha()):
                out.append(token)
            continue
        following = next((t.lower() for t in tokens[i + 1 :] if t != _DISFLUENCY), None)
        if following is None or following in ".?!":
            # The speaker broke off and did not go on: the whole sentence is abandoned.
            start = len(out)
            while start > 0 and out[start - 1] not in ".?!":
                start -= 1
            del out[start:]
            continue
        start = len(out)
        while start > 0 and out[start - 1] not in ",.;:?!":
            start -= 1
        clause = [t.lower() for t in out[start:]]
        if following.isalpha() and following in clause:
            del out[start + clause.index(following) :]
        elif (
            out and out[-1].isalpha() and len(out[-1]) <= 2 and out[-1].lower() not in _SHORT_WORDS
        ):
            out.pop()
    return out


def _is_fragment(token: str, following: str | None) -> bool:
    """A cut-off word: "th", "w" (not "a", "I", "TV"), or the next one's start ("targ target")."""
    if not token.isalpha() or (token.isupper() and token != "I" and len(token) > 1):
        return False
    low = token.lower()
    if len(token) <= 2 and low not in _SHORT_WORDS and token != "I":
        return True
    return (
        following is not None
        and low not in STOP_WORDS
        and len(following) > len(token)
        and following.lower().startswith(low)
    )


def _drop_repeats(tokens: list[str]) -> list[str]:
    """ "the the", "which one which one": a phrase of up to three words said twice in a row;
    and the fragments of words a speaker cut off."""
    out: list[str] = []
    low: list[str] = []  # out, lowercased, for comparing
    for i, token in enumerate(tokens):
        if _is_fragment(token, tokens[i + 1] if i + 1 < len(tokens) else None):
            continue
        out.append(token)
        low.append(token.lower() if token[0].isalnum() else "\x01")  # punctuation never repeats
        size = len(low)
        for n in (1, 2, 3):
            if size >= 2 * n and low[-n] != "\x01" and low[size - 2 * n : size - n] == low[-n:]:
                del out[-n:]
                del low[-n:]
                break
    return out


def _join(tokens: list[str]) -> str:
    text = " ".join(tokens)
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    # Punctuation left orphaned by what was removed: ", ,", ", .", a leading comma.
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)
    text = re.sub(r"[,;:]\s*([.?!])", r"\1", text)
    text = re.sub(r"^[\s,;:.]+", "", text)
    text = re.sub(r"([.?!])(?:\s*[,;:])+", r"\1", text)
    text = re.sub(r"([.?!])(?:\s*\.)+", r"\1", text)
    return re.sub(r"\s{2,}", " ", text).strip()


_ABBREVIATIONS = _wordset(
    "mr mrs ms dr prof st hon mt vs etc e.g i.e no approx inc ltd jr sr dept fig"
)
_END = re.compile(r"[.?!]+[\"')\]]*\s+")


def sentences(text: str) -> list[str]:
    """Cleaned text as sentences: split at . ? ! and a space (not after "Dr." or "e.g.")."""
    out: list[str] = []
    begin = 0
    for match in _END.finditer(text):
        before = text[begin : match.start()].rsplit(None, 1)
        last = before[-1].lower().rstrip(".") if before else ""
        if match.group().startswith(".") and (last in _ABBREVIATIONS or len(last) == 1):
            continue
        out.append(text[begin : match.end()].strip())
        begin = match.end()
    if text[begin:].strip():
        out.append(text[begin:].strip())
    return [tidy_sentence(s) for s in out if any(c.isalnum() for c in s)]


def tidy_sentence(sentence: str) -> str:
    """Drop the openers that start a spoken sentence ("So, okay, ...") and capitalise it."""
    words = sentence.split(" ")
    while len(words) > 1 and words[0].lower().strip(",.") in _OPENERS:
        words.pop(0)
    out = " ".join(words).lstrip(" ,;:")
    if out and out[0].islower():
        out = out[0].upper() + out[1:]
    return out


def words(text: str) -> list[str]:
    """The lowercase words of ``text`` (numbers included, punctuation not)."""
    return _WORD.findall(text.lower().replace("’", "'"))


def word_count(text: str) -> int:
    """How many words a reader counts in ``text``."""
    return len(text.split())


#: English function words, and the words conversation is made of whatever it is about.
STOP_WORDS = _wordset(
    """a about above after again against all also am an and any are aren't as at be because been
    before being below between both but by can can't cannot could couldn't did didn't do does
    doesn't doing don't down during each few for from further had hadn't has hasn't have haven't
    having he he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll
    i'm i've if in into is isn't it it's its itself let's me more most mustn't my myself no nor
    not of off on once only or other ought our ours ourselves out over own same shan't she she'd
    she'll she's should shouldn't so some such than that that's the their theirs them themselves
    then there there's these they they'd they'll they're they've this those through to too under
    until up very was wasn't we we'd we'll we're we've were weren't what what's when when's where
    where's which while who who's whom why why's with won't would wouldn't you you'd you'll
    you're you've your yours yourself yourselves
    yeah yes okay ok oh um uh mm hmm right well just really actually like know think mean guess
    gonna wanna gotta kind sort thing things stuff lot lots got get gets getting go goes going
    went gone say says said saying see seems maybe probably sure yep nope alright anyway one two
    something anything everything nothing someone somebody anybody everybody way bit quite
    pretty much many also still even else ever already now then there's let us want wanted
    need needs make made take put come came look looks looking good great fine 'kay kay uh-huh
    mm-hmm would've could've might must may shall will can't isn't whether though although
    actually basically probably certainly definitely obviously exactly course again
    mr mrs ms dr hon first second third next last cool"""
)

_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball (Porter 2) stem of a lowercase word."""
    return str(_stemmer.stemWord(word))


def content_stems(text: str) -> list[str]:
    """Stems of the words in ``text`` that carry content (no stop words, no lone digits)."""
    return [stem(w) for w in words(text) if w not in STOP_WORDS and len(w) > 1]


def iter_words(text: str) -> Iterator[str]:
    """The words of ``text`` as they are written, punctuation stripped (for titles)."""
    for token in text.split():
        word = token.strip(".,;:?!\"'()[]")
        if word:
            yield word
