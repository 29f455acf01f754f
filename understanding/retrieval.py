"""Words as the answer engine compares them: tokens, a light stemmer, stop words, and a question
stripped of its frame ("what did the group discuss about …") down to what it asks about.

Deliberately small and synonym-free: the stemmer folds inflection and the commonest derivations
("designer", "designing", "designs" → "design"; "batteries" → "battery") so a question matches
the words people said, without a dictionary or model weights.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from understanding.text import stem


def _listed(text: str) -> frozenset[str]:
    """The words of a word list written as text."""
    return frozenset(text.split())


_WORD = re.compile(r"[a-z0-9]+")
#: ``Speaker: words`` at the start of a passage's line (understanding.passages writes them).
SPEAKER_LINE = re.compile(r"^(?P<speaker>[^:\n]{1,60}):[ \t]+(?P<text>.*)$")

STOP_WORDS = _listed(
    """
    a about above after again against all also am an and any are aren as at be because been before
    being below between both but by can cannot could couldn did didn do does doesn doing don down
    during each either else ever every few for from further get gets getting got had hadn has hasn
    have haven having he her here hers herself him himself his how i if in into is isn it its itself
    just let me more most much must mustn my myself no nor not now of off on once one only or other
    our ours ourselves out over own per quite rather re s same shall shan she should shouldn so some
    such t than that the their theirs them themselves then there these they this those though
    through thus to too under until up upon us ve very via was wasn we were weren what when where
    whether which while who whom whose why will with within without won would wouldn you your yours
    yourself yourselves ll d m o y ain
    um uh uhm hmm mm mhm er erm ah oh okay ok yeah yep yes no nope alright right well like kind sort
    gonna wanna gotta kinda sorta actually basically really anyway anyways thing things stuff guess
    mean know just sure maybe probably pretty lot lots bit please
    """
)
#: How questions about a meeting are framed: these say what kind of answer is wanted, not what
#: it is about, so they weigh nothing (a meeting that says "discuss" once must not win on it).
FRAME_WORDS = _listed(
    """
    summarize summarise summary summarized discuss discussed discussing discussion discussions
    talk talked talking talks say said says saying tell told think thinks thought thoughts opinion
    opinions view views perspective perspectives stance position attitude feel felt feeling feelings
    group team teams members member participants people everyone anybody meeting meetings whole
    general overall main mainly specific specifically mention mentioned mentions regarding
    concerning towards toward respond responded response answer answered reply replied comment
    commented comments express expressed
    """
)
#: Words a question leans on that also say something of the content: they count, but little.
WEAK_WORDS = _listed(
    """
    present presented presenting presentation propose proposed proposal suggest suggested
    suggestion suggestions decide decided decision decisions agree agreed disagree disagreed
    recommend recommended recommendation explain explained describe described idea ideas problem
    problems issue issues reason reasons conclusion concluded result results detail details
    """
)
WEAK_WEIGHT = 0.3


#: Spelled-out acronyms as some transcripts write them: "L_C_D_", "T_V_".
_SPELLED = re.compile(r"\b(?:[A-Za-z]_){2,}")


def words(text: str) -> list[str]:
    """Lower-case words and numbers, in order ("L_C_D_" is "lcd")."""
    text = _SPELLED.sub(lambda m: m[0].replace("_", ""), text)
    return _WORD.findall(text.lower())


def terms(text: str) -> list[str]:
    """The stems of the words that carry content (stop words out), in order."""
    return [stem(w) for w in words(text) if w not in STOP_WORDS]


def utterances(text: str, speaker: str | None = None) -> list[tuple[str | None, str]]:
    """A passage's ``(speaker, words)`` lines; lines without a ``Speaker:`` keep ``speaker``."""
    lines: list[tuple[str | None, str]] = []
    for line in text.splitlines():
        match = SPEAKER_LINE.match(line.strip())
        if match:
            lines.append((match["speaker"].strip(), match["text"]))
        elif line.strip():
            lines.append((speaker, line.strip()))
    return lines


@dataclass
class Query:
    """A question as the ranker sees it: weighted content stems and the speakers it names."""

    weights: dict[str, float] = field(default_factory=dict)
    speakers: frozenset[str] = frozenset()

    @property
    def empty(self) -> bool:
        return not self.weights and not self.speakers


#: Honorifics and post-nominals around a person's name ("Hon. Bill Morneau", "Julie Morgan AM").
_TITLES = _listed("hon right mr mrs ms miss dr sir dame am mp mla mep mpp the")


def _surname(speaker: str) -> str | None:
    """A person's last name as written ("Morneau" in "Hon. Bill Morneau"), if it looks like one."""
    name = re.sub(r"\([^)]*\)", " ", speaker)
    parts = [p for p in re.findall(r"[^\W\d_][\w'-]*", name) if p.lower() not in _TITLES]
    if len(parts) < 2 or not parts[-1][:1].isupper() or len(parts[-1]) < 3:
        return None
    return parts[-1]


def _named(question: str, speaker: str) -> tuple[int, set[str]] | None:
    """How closely the question names ``speaker`` (3: by its letter or its whole name, 2: by a
    person's last name, 1: by a role alone) and the question's words that do it; None when it
    does not name them.

    "Project Manager" is named by "the project manager"; "Professor B" by "the professor" or
    "B"; "PhD C" by "PhD C" or a capital ``C`` standing alone (a corpus's lettered speakers);
    "Hon. Bill Morneau" by "Bill Morneau" or "Morneau".
    """
    said = words(question)
    full = [p for p in words(speaker) if len(p) > 1 and p not in STOP_WORDS]
    letters = [p for p in speaker.split() if len(p) == 1 and p.isalpha() and p.isupper()]
    for letter in letters:
        # A lone capital, not the article "A" opening the question or a sentence.
        if re.search(rf"(?<!^)(?<![.?!] )\b{letter}\b(?!')", question.strip()):
            return 3, {*full, letter.lower()}
    if full and all(p in said for p in full):
        return (1 if letters else 3), set(full)
    surname = _surname(speaker)
    if surname and re.search(rf"\b{re.escape(surname)}\b", question):
        return 2, {p for p in words(surname)}
    # A role's leading word alone ("marketing", "professor") when it is specific enough.
    if full and len(full[0]) >= 6 and full[0] in said and full[0] not in FRAME_WORDS:
        return 1, {full[0]}
    return None


def parse_question(question: str, speakers: Iterable[str] = ()) -> Query:
    """The question's content stems (frame words out, weak words light) and speakers it names.

    When some speakers are named closely ("PhD B"), the loosely named ones ("PhD A", by its
    role alone) are not.
    """
    matches = {s: hit for s in set(speakers) if (hit := _named(question, s)) is not None}
    closest = max((strength for strength, _ in matches.values()), default=0)
    named = {s for s, (strength, _) in matches.items() if strength == closest}
    naming: set[str] = set()
    for _, hit_words in matches.values():
        naming |= hit_words
    weights: dict[str, float] = {}
    for word in words(question):
        if word in STOP_WORDS or word in FRAME_WORDS or word in naming or len(word) < 2:
            continue
        weight = WEAK_WEIGHT if word in WEAK_WORDS else 1.0
        term = stem(word)
        weights[term] = max(weights.get(term, 0.0), weight)
    return Query(weights=weights, speakers=frozenset(named))


#: Hesitations a reader can do without.
_FILLER = re.compile(r"(?i)(?<!\w)(?:mm-hmm|uh-huh|uhm|uh|um|erm|er|mm|hmm)(?!\w)[ ,]*")


def tidy(sentence: str) -> str:
    """A sentence without its hesitations ("uh", "um"), for a person to read."""
    sentence = _SPELLED.sub(lambda m: m[0].replace("_", ""), sentence)
    return " ".join(_FILLER.sub("", sentence).split())


def sentences(text: str) -> list[str]:
    """A turn's sentences (cut after ``.``, ``?``, ``!``)."""
    return [s.strip() for s in re.split(r"(?<=[.?!])\s+", text) if s.strip()]


def overlap(a: Sequence[str], b: Sequence[str]) -> int:
    """How many distinct stems two token lists share."""
    return len(set(a) & set(b))
