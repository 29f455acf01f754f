"""Decisions and action items from a transcript: rules over speaker turns, no model, no network.

``extract(turns, meeting_date=...)`` returns ``(decisions, action_items)``. Pure and deterministic.

What counts:

- a **commitment** by the speaker ("I'll send the deck by Friday", "let me check with legal",
  "I'm going to…", "I can take the design round"): owner = the speaker;
- a **request** ("can you…", "could you…", "please…", "I need you to…"): owner = the person
  addressed by name ("Ben, can you…", "…, Ben?"), else the next person to speak;
- an **assignment** ("Priya will draft the FAQ", "our partner manager, Dev, will…", "could Wendy
  send…"): owner = the person named;
- a **decision** ("we agreed to…", "we decided…", "let's go with…", "we'll launch on…").

What does not: figures of speech ("I'll be honest", "let's see", "I'll tell you what", "I'll say
this"), talk about the call itself ("can you hear me?", "can you see my screen?", "next slide"),
negations ("I will never…"), hypotheticals ("if we…, we'd…"), reported speech ("she said
she'd…") and quotations, questions, hedged predictions ("I guess we'll…"), ability ("I think I
can make it work"), broken-off phrases, and jokes ("I'll hold you to that").

When the person asked answers in the next turn with a commitment ("Sure, I'll do it tomorrow"),
that answer completes the request (its due date) instead of becoming a second item. docs/
ACTION_ITEMS.md has the whole list, with the due-date conventions of ``understanding.dates``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from understanding.dates import find_due
from understanding.types import ActionItem, Turn

# --- Cleaning: corpus markers, fillers, tokenised contractions, ASR habits ------------------------

_MARKERS = re.compile(r"\{[^}]*\}|\[[^\]]*\]|\((?:laughs?|laughter|inaudible|crosstalk)\)", re.I)
_FILLER_WORDS = frozenset({"um", "umm", "uh", "uhh", "erm", "er", "hmm", "hmmm", "mm", "mmm", "ah"})
_FILLER_PHRASES = re.compile(r"\b(?:you know|i mean)\b,?", re.I)
_SPLIT_CONTRACTION = re.compile(r"\s+(n't|'ll|'re|'s|'ve|'d|'m)\b", re.I)
_SLANG = re.compile(r"\b(?:gon|wan|got)na\b", re.I)
_SLANG_WORDS = {"gonna": "going to", "wanna": "want to", "gotta": "got to"}
_SPACE_PUNCT = re.compile(r"\s+([,.?!;:])")
_PUNCT_RUNS = re.compile(r"([,.?!;:])(?:\s*[,.;:])+")
_QUOTED = re.compile(r'"[^"]*"')


def clean(text: str) -> str:
    """Transcript text without corpus markers, fillers, stutters or split contractions."""
    # Each step only when its cue is there: this runs on every turn of hour-long meetings.
    if "{" in text or "[" in text or "(" in text:
        text = _MARKERS.sub(" ", text)
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    if " '" in text or " n't" in text:
        text = _SPLIT_CONTRACTION.sub(r"\1", text)
    if "nna" in text or "tta" in text:
        text = _SLANG.sub(lambda m: _SLANG_WORDS.get(m[0].lower(), m[0]), text)
    if '"' in text:
        text = _QUOTED.sub(" ", text)
    if " know" in text or " mean" in text:
        text = _FILLER_PHRASES.sub(" ", text)
    words = [w for w in text.split() if w.lower().strip(",.") not in _FILLER_WORDS]
    text = _unstutter(" ".join(words))
    text = _SPACE_PUNCT.sub(r"\1", text)
    text = _PUNCT_RUNS.sub(r"\1", text)
    return text.strip(" ,")


def _unstutter(text: str) -> str:
    """ "the the deck" -> "the deck": a word said twice in a row, as speech recognition keeps it."""
    words = text.split(" ")
    kept = [w for i, w in enumerate(words) if i == 0 or w.lower() != words[i - 1].lower()]
    return " ".join(kept)


_SENTENCES = re.compile(r"(?<=[.?!;])\s+|\s+-{1,2}\s+")


def sentences(text: str) -> list[str]:
    """Sentences of a cleaned turn (a turn without punctuation is one sentence)."""
    return [s.strip(" ,") for s in _SENTENCES.split(text) if s.strip(" ,")]


#: A cheap test on the raw text: could this turn hold any trigger?
_CUE = re.compile(
    r"'ll|'m\b|\b(?:will|won't|not|can|could|would|let|lets|please|agreed|decided|decision|going|"
    r"gonna|need|plan|"
    r"like you|if you|shall|got it|on it)\b",
    re.I,
)

# --- Triggers -------------------------------------------------------------------------------------

_NOT = r"(?!n't|\s+not\b|\s+never\b)"
_SELF = (
    r"i'll|i will"
    + _NOT
    + r"|i'm going to|i am going to|i shall|let me|i can"
    + _NOT
    + r"|i'm on it|i've got it"
    # "Next I'm picking up the export": the present for what comes next.
    + r"|(?:next|then|today|tomorrow|later|after that|this afternoon|this week),? "
    + r"i'm(?= (?!going\b)\w+ing\b)"
)
#: "Quentin, you'll own the release notes": an assignment only when the person is named.
_YOU_WILL = r"you'll|you will" + _NOT + r"|you're going to|you are going to"
_REQUEST = (
    r"can you" + _NOT + r"|could you|would you mind|would you|will you|can you please|"
    r"could you please|i need you to|i'd like you to|if you could|please"
)
_DECISION = (
    r"we(?:'ve| have)? (?:all )?(?:agreed|decided)(?: on| to| that)?|(?:it's|it is) decided|"
    r"the decision is(?: to| that)?|we're agreed(?: on| that)?|we are agreed(?: on| that)?|"
    r"let's|let us|we'll|we will" + _NOT + r"|we're going with|we are going with|"
    r"we're going to|we are going to|the plan is(?: to| that)?|"
    r"we're not|we are not|we won't|we will not"
)
_TRIGGER = re.compile(
    rf"\b(?:(?P<self>{_SELF})|(?P<request>{_REQUEST})|(?P<decision>{_DECISION})|"
    rf"(?P<you_will>{_YOU_WILL}))\b",
    re.I,
)
#: A named person who will do something: "Priya will", "Dev, will", "Sofia from our side will".
_NAMED = re.compile(
    r"\b(?P<name>[A-Za-z][a-z]+)(?:,| from (?:our|their|your|the) (?:side|team))?"
    r"\s+(?:will|'ll|is going to|'s going to|is gonna)" + _NOT + r"\b",
)
_NAMED_CONTRACTED = re.compile(r"\b(?P<name>[A-Za-z][a-z]+)(?:'ll|'s going to)\b")
#: A request about a third person: "could Wendy send me…".
_ASK_NAMED = re.compile(r"\b(?:can|could|would) (?P<name>[A-Za-z][a-z]+) (?=\w)", re.I)

#: What ends the words of one commitment inside a sentence (ASR text has no punctuation).
_BOUNDARY = re.compile(
    r"[,;:]?\s+(?:but|because|since|although|though|whereas|otherwise|unless|"
    r"and (?=(?:then )?(?:i|we|you|he|she|they|so|also|today|tomorrow|yesterday)\b)|"
    r"so (?=(?:i|we|you|he|she|they)\b)|okay|ok|alright|anyway)\b|,\s+(?=(?:and|so|then)\b)",
    re.I,
)

# --- What is not an action ------------------------------------------------------------------------

_FIGURES = re.compile(
    r"^(?:be honest|be frank|be blunt|tell you what|say this|say that|tell you|admit|bet|guess|"
    r"see\b|see what|see how|think|take (?:that|it) as|cross that bridge|hold you to|"
    r"remember that|believe|be quick|be brief|keep it short|keep this short|let you go|"
    r"leave it there|leave it at|pass\b|say\b|note that|point out|"
    r"talk (?:to (?:you|everyone|you all|the committee) )?about|go over|turn (?:it )?over|"
    r"point to|back up|run through|view it|"
    r"make an example|draw (?:it|that|this)|give (?:you|us|them|\w+) (?:an? )?(?:clear |quick |"
    r"brief )?(?:example|illustration|idea|sense|flavour|overview)|cite|read (?:it|that|this)|"
    r"go home|always|continue to|come up with|state|assure|report that|suggest|argue|remind|"
    r"stress|emphasi[sz]e|describe|speak|briefly|(?:share|split)(?:ing)? (?:my|their) time|"
    r"show (?:you|them|us)\b|go first|start$|start (?:with|off|by|us)\b|kick off|"
    r"kick things off|hand (?:it )?over|share my screen|"
    r"stop sharing|repeat|rephrase|put it this way|be right back|be back|mute|unmute|jump in|"
    r"interrupt|just say|debrief|say it again|eat my|never|try my best|give you an example|explain|"
    r"ask you|add one thing|answer that|wrap up|recap|summari[sz]e|go over|walk you|walk through|"
    r"move on|get started|get going|begin|dive|jump|go round|go around|go through|look at this|"
    r"not\b|know\b|talk about|discuss|focus on|take a look|circle back|take this offline|"
    r"take it offline|revisit|get back to that|come back to that|see you|talk soon|speak soon|"
    r"need to think|wait and see|play it by ear|agree|disagree|do my best|be there|be fine|"
    r"buy (?:you|everyone|the team) (?:a |an )?(?:lunch|dinner|drinks?|coffee|beer|pizza)|"
    r"retire|quit|die|finish (?:my|this) (?:thought|point|sentence)|"
    r"give me a (?:second|sec|minute)|be\b|hear\b|imagine|understand|relate|live with|only\b|"
    r"keep going|keep working on (?:it|that|this)$|"
    r"continue (?:with )?(?:it|that|this)$|"
    r"go ahead and share|pull (?:it|that) up|find (?:it|that)|get this straight|introduce)",
    re.I,
)
#: Requests that are about the call itself, not work to do afterwards.
_CALL_TALK = re.compile(
    r"^(?:hear|see|share your screen|share the screen|share your|mute|unmute|repeat|say that|"
    r"say it|speak up|tell (?:me|us) (?:about|what|more|how|why|a bit|a little)|explain|"
    r"walk (?:me|us) through|remind me|clarify|go ahead|believe|imagine|"
    r"give (?:me|us) a (?:second|sec|minute|moment)\b|hold on|wait a|hang on|"
    r"introduce yourself|stop sharing|scroll|zoom|"
    r"move (?:it|that) (?:up|down)|go back|check (?:my|your) (?:mic|audio|camera)|"
    r"have (?:been|\w+ed|\w+en)\b|"
    r"please\b|let me know|tell me|note|be advised|bear with|welcome|rise|stand|sit|order|"
    r"slow down|direct (?:your|their) remarks|keep (?:your|it|them) (?:brief|short))",
    re.I,
)
_REPORTED = re.compile(
    r"\b(?:said|says|say|saying|told|tells|asked|asks|mentioned|promised|claimed|claims|thinks|"
    r"thought|wrote|writes|emailed|texted|suggested)\b",
    re.I,
)
_HYPOTHETICAL = re.compile(
    r"\b(?:if|whether|unless|suppose|imagine|when)\b|\b\w+'d\b|\bwould\b", re.I
)
_JOKE = re.compile(r"\b(?:just kidding|kidding|joking|haha+|lol)\b", re.I)
_QUESTION_WORDS = re.compile(
    r"^(?:what|why|how|when|where|who|which|whether|did|do|does|have|has|had|were|was)\b", re.I
)
_VAGUE = re.compile(
    r"^(?:do|handle|take|check|try|get|send|have|manage|sort|grab) ?(?:it|that|this|them|so|one)?"
    r"(?: done| out| ready| then| too| as well| now| for you| for us)?$",
    re.I,
)
_DECISION_FIGURES = re.compile(
    r"^(?:see|get started|start|begin|move on|go round|go around|walk through|talk about|"
    r"discuss|think|not\b|take a (?:look|step back|break|minute|second)|be honest|say|look at|"
    r"hear|wrap (?:up|it up)|recap|go through|dive|jump|get going|focus|circle back|"
    r"take (?:this|it) offline|try|keep going|keep (?:working|trying|doing|at it|an eye)|"
    r"continue|cross that bridge|figure (?:it|that) out|need|"
    r"have to|probably|maybe|likely|be\b|get there|talk|catch up|hope|pray|find out|"
    r"assume|say|call it|leave it|do (?:a )?quick|do introductions|go ahead|get into|"
    r"pick (?:this|it|that) up|continue|chat|speak|meet\b|stop here|end here|finish here|"
    r"see how|wait|check in|reconvene|just|all|both|debrief|review (?:this|it|that)\b|"
    r"hear from|turn to|kick (?:off|things off))",
    re.I,
)

# --- Pronouns and people --------------------------------------------------------------------------

_NOT_NAMES = frozenset(
    {
        "it",
        "this",
        "that",
        "there",
        "here",
        "he",
        "she",
        "they",
        "we",
        "you",
        "i",
        "who",
        "what",
        "which",
        "everyone",
        "everybody",
        "someone",
        "somebody",
        "nobody",
        "nothing",
        "everything",
        "anyone",
        "anybody",
        "one",
        "each",
        "both",
        "all",
        "the",
        "a",
        "an",
        "and",
        "but",
        "so",
        "or",
        "then",
        "now",
        "today",
        "tomorrow",
        "yesterday",
        "tonight",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "where",
        "when",
        "why",
        "how",
        "time",
        "next",
        "last",
        "these",
        "those",
        "our",
        "my",
        "your",
        "their",
        "his",
        "her",
        "its",
        "also",
        "maybe",
        "probably",
        "hopefully",
        "well",
        "okay",
        "yes",
        "no",
        "yeah",
        "sure",
        "great",
        "good",
        "fine",
        "right",
        "thanks",
        "thank",
        "sorry",
        "please",
        "let",
        "lets",
        "just",
        "only",
        "still",
        "team",
        "legal",
        "ha",
        "oh",
        "hey",
        "hi",
        "hello",
        "plus",
        "things",
        "stuff",
        "work",
        "price",
        "pricing",
        "budget",
        "release",
        "launch",
        "other",
        "another",
        "most",
        "some",
        "any",
        "either",
        "to",
        "in",
        "on",
        "at",
        "for",
        "with",
        "of",
        "by",
        "from",
        "perhaps",
        "designer",
        "manager",
        "government",
        "minister",
        "chair",
        "members",
        "committee",
        "house",
        "party",
        "neither",
    }
)


@dataclass
class _Candidate:
    turn: int
    kind: str  # "self", "request", "named", "ask_named", "you_will"
    owner: str | None
    text: str
    due: date | None
    vague: bool = False
    merged: bool = False


@dataclass
class _People:
    """The speakers of the meeting, by every spelling a turn might use."""

    speakers: list[str]
    by_key: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for speaker in self.speakers:
            self.by_key.setdefault(speaker.lower(), speaker)
            first = speaker.split()[0].lower() if speaker.split() else ""
            if first and first not in _NOT_NAMES:
                self.by_key.setdefault(first, speaker)

    def lookup(self, word: str) -> str | None:
        return self.by_key.get(word.lower())

    def name(self, word: str, *, capitalised_only: bool) -> str | None:
        """The person ``word`` names: a speaker, or a capitalised word that is a name."""
        known = self.lookup(word)
        if known:
            return known
        if word.lower() in _NOT_NAMES or (capitalised_only and not word[:1].isupper()):
            return None
        return word if word[:1].isupper() else None


def _first_name(person: str) -> str:
    return person.split()[0] if person.split() else person


# --- Extraction -----------------------------------------------------------------------------------


def extract(
    turns: Sequence[Turn], *, meeting_date: date | None = None
) -> tuple[list[str], list[ActionItem]]:
    """The decisions and the action items of a meeting, in the order they were said."""
    decisions, items = extract_located(turns, meeting_date=meeting_date)
    return list(dict.fromkeys(text for _, text in decisions)), [item for _, item in items]


def extract_located(
    turns: Sequence[Turn], *, meeting_date: date | None = None
) -> tuple[list[tuple[int, str]], list[tuple[int, ActionItem]]]:
    """``extract`` with the index of the turn each decision and item comes from."""
    people = _People(list(dict.fromkeys(t.speaker for t in turns)))
    decisions: list[tuple[int, str]] = []
    candidates: list[_Candidate] = []
    for index, turn in enumerate(turns):
        accepted = _accepted_offer(turns, index, meeting_date)
        if accepted:
            candidates.append(accepted)
        if not _CUE.search(turn.text):
            continue  # most turns hold no trigger at all: skip the cleaning (speed)
        text = clean(turn.text)
        if not text:
            continue
        joke = bool(_JOKE.search(text))
        for sentence in sentences(text):
            decided = False
            for kind, prefix, body, owner_hint, said in _triggers(sentence, people):
                if joke:
                    continue
                if kind == "decision":
                    statement = None if decided else _decision(prefix, body, said, sentence)
                    if statement:
                        decisions.append((index, statement))
                        decided = True
                    continue
                if kind == "self" and re.search(r"i'm$", said, re.I):
                    body = _base_form(body)
                    prefix += said  # "today I'm fixing…": the day is in the trigger's words
                candidate = _item(
                    kind,
                    prefix,
                    body,
                    owner_hint,
                    index,
                    turns,
                    people,
                    meeting_date,
                    sentence,
                    said,
                )
                if candidate:
                    candidates.append(candidate)
    return _unique_decisions(decisions), _merge(candidates)


#: "Should I send the notes?", "would it help if I prepared a summary?", "want me to call them?"
_OFFER = re.compile(
    r"\b(?:should i|shall i|do you want me to|would you like me to|want me to|"
    r"would it help if i|is it ok if i|how about i|i could)\s+(?P<action>[^?.!]+)\?\s*$",
    re.I,
)
_OFFER_CUE = re.compile(r"\b(?:should|shall|me to|if i|could|about i)\b", re.I)
_ACCEPT = re.compile(
    r"^(?:yes|yeah|yep|sure|please|go ahead|that would be great|that'd be great|sounds good|"
    r"perfect|great|definitely|absolutely|of course)\b(?![^.!?]*\b(?:but|no|not|don't)\b)",
    re.I,
)


def _accepted_offer(
    turns: Sequence[Turn], index: int, meeting_date: date | None
) -> _Candidate | None:
    """An offer ("should I send the notes?") that the next speaker accepts ("yes, please"): the
    one who offered owns it, from the turn that accepted it."""
    if index == 0 or turns[index - 1].speaker == turns[index].speaker:
        return None
    if "?" not in turns[index - 1].text or not _OFFER_CUE.search(turns[index - 1].text):
        return None  # cheap tests first: this runs on every turn
    if not _ACCEPT.match(clean(turns[index].text)):
        return None
    offered = sentences(clean(turns[index - 1].text))
    match = _OFFER.search(offered[-1]) if offered else None
    if not match:
        return None
    action = _strip_lead(_present(match["action"]))
    offerer = turns[index - 1].speaker
    due_in = find_due(action, meeting_date)
    if due_in:
        action = (action[: due_in.start] + " " + action[due_in.end :]).strip()
    text = _to_do(action, speaker=offerer, owner=offerer, listener=turns[index].speaker)
    if not text or len(text.split()) < 2 or _garbled(text) or _FIGURES.search(action):
        return None
    return _Candidate(index, "request", offerer, text, due_in.when if due_in else None)


def _present(action: str) -> str:
    """ "prepared a summary" -> "prepare a summary": offers are often in the past tense."""
    first, _, rest = action.strip().partition(" ")
    lowered = first.lower()
    if re.search(r"(?:ar|iz|is|at|ut|or|ur|g|v|c|s)ed$", lowered):
        first = first[:-1]
    elif re.search(r"([^aeiou])\1ed$", lowered):
        first = first[:-3]
    elif lowered.endswith("ied"):
        first = first[:-3] + "y"
    elif lowered.endswith("ed") and len(lowered) > 4:
        first = first[:-2]
    return f"{first} {rest}".strip()


def _triggers(sentence: str, people: _People) -> list[tuple[str, str, str, str | None, str]]:
    """Each (kind, words before in the sentence, its own words, named owner, the trigger's words)
    that starts a commitment or a decision; its own words end at the next trigger or boundary."""
    found: list[tuple[int, int, str, str | None]] = []
    for match in _TRIGGER.finditer(sentence):
        kind = match.lastgroup or "self"
        found.append((match.start(), match.end(), kind, None))
    lowered = sentence.lower()
    named = " will" in lowered or "'ll" in lowered or "going to" in lowered or "gonna" in lowered
    for match in _NAMED.finditer(sentence) if named else ():
        person = people.name(match["name"], capitalised_only=True)
        if person:
            found.append((match.start(), match.end(), "named", person))
    for match in _NAMED_CONTRACTED.finditer(sentence) if named else ():
        person = people.name(match["name"], capitalised_only=True)
        if person and not any(s == match.start() for s, _, _, _ in found):
            found.append((match.start(), match.end(), "named", person))
    for match in _ASK_NAMED.finditer(sentence):
        person = people.name(match["name"], capitalised_only=False)
        if person and match["name"].lower() not in {"you", "we", "i"}:
            found.append((match.start(), match.end(), "ask_named", person))
    found.sort(key=lambda f: (f[0], -f[1]))
    # Overlaps: keep the first (longest) trigger at each place.
    kept: list[tuple[int, int, str, str | None]] = []
    for trigger in found:
        if kept and trigger[0] < kept[-1][1]:
            continue
        kept.append(trigger)
    out: list[tuple[str, str, str, str | None, str]] = []
    for i, (start, end, kind, person) in enumerate(kept):
        stop = kept[i + 1][0] if i + 1 < len(kept) else len(sentence)
        body = sentence[end:stop]
        boundary = _BOUNDARY.search(body)
        if boundary:
            body = body[: boundary.start()]
        before = sentence[:start]
        if (
            kind == "self"
            and re.search(r"\bso(?: that)?\s*$", before, re.I)
            and before.strip(" ,").lower()
            not in {"so", "okay so", "ok so", "and so", "yeah so", "right so"}
        ):
            # "…so I can install the app": a purpose, not a promise.
            continue
        out.append((kind, before, body.strip(" ,.?!;:"), person, sentence[start:end]))
    return out


#: What may come before "I can" when it offers to do something: nothing, or a reply word.
_OPENING = re.compile(
    r"^\s*(?:(?:yes|yeah|yep|sure|okay|ok|well|and|so|then|also|oh|great|fine|no problem|but|"
    r"actually|alright|right|i mean|of course|absolutely)[\s,.!]*)*$",
    re.I,
)
#: Things done during the call itself.
_IN_THE_MEETING = re.compile(
    r"\b(?:in a sec(?:ond)?|right now|for a (?:sec|second|moment|minute)|just now)\b|"
    r"\b(?:here|now)\s*$",
    re.I,
)
#: Moving through slides and documents during the call.
_ON_SCREEN = re.compile(
    r"^(?:take (?:a )?notes?\b|take (?:the )?minutes|next slide|skip|open (?:it|this|that|them)|"
    r"share (?:it|this|that)|show (?:it|this|that)|present|pull (?:it|this|that) up|scroll|click|"
    r"go to the next|move (?:on )?to|bring (?:it|this|that) up|put (?:it|this|that) up|"
    r"\w+ (?:this|it) up$|read (?:it|this|that|them) out)",
    re.I,
)
#: "…all I can do", "the best thing I can come up with": the trigger is inside a noun phrase.
_RELATIVE = re.compile(
    r"\b(?:all|what|which|that|than|everything|anything|something|nothing|thing|things|way|"
    r"one|as|how|where|whatever|whether|much|more|only)\s*$",
    re.I,
)

#: What follows "Priya will" or "you'll" when it is not a task ("you'll love it").
_NOT_TASKS = (
    r"^(?:be|have(?! to)|probably|need|like|love|hate|want|see|notice|find|get|enjoy|know|remember|"
    r"understand|agree|never|also be|just be|always|continue to|be \w+ing)\b"
)


def _item(
    kind: str,
    prefix: str,
    body: str,
    named: str | None,
    index: int,
    turns: Sequence[Turn],
    people: _People,
    meeting_date: date | None,
    sentence: str,
    said: str,
) -> _Candidate | None:
    speaker = turns[index].speaker
    if _REPORTED.search(prefix) or (_HYPOTHETICAL.search(prefix) and kind != "request"):
        return None
    if _QUESTION_WORDS.search(prefix.strip()) and kind in {"self", "named"}:
        return None
    action = _strip_lead(body)
    if not action:
        return None
    if kind == "self":
        if _FIGURES.search(action) and not re.search(r"\bget back to\b", action, re.I):
            return None
        if _RELATIVE.search(prefix):
            return None  # "all I can do with the time I have", "what I'm going to talk about"
        if said.lower() == "i can" and not _OPENING.match(_own_clause(prefix)):
            return None  # "I think I can make it difficult": ability, not a promise
        owner: str | None = speaker
        listener = _previous_speaker(turns, index) or _next_speaker(turns, index)
    elif kind == "request":
        if (
            prefix.strip().lower().endswith(("if", "what if"))
            and "you could" not in sentence.lower()
        ):
            return None
        if _CALL_TALK.search(action) or re.match(r"^not\b", action, re.I):
            return None
        if _HYPOTHETICAL.search(prefix) and not re.search(r"\bif you could\b", sentence, re.I):
            return None
        owner = _addressee(prefix, body, people, speaker) or _next_speaker(turns, index)
        action = _strip_address(action, owner)
        listener = owner
    elif kind == "you_will":
        owner = _addressee(prefix, body, people, speaker)
        if owner is None or _FIGURES.search(action) or re.match(_NOT_TASKS, action, re.I):
            return None
        listener = _previous_speaker(turns, index) or _next_speaker(turns, index)
    else:  # named, ask_named
        if _FIGURES.search(action) or re.match(_NOT_TASKS, body.strip(), re.I):
            return None
        owner = named
        listener = _previous_speaker(turns, index) or _next_speaker(turns, index)
    due_in = find_due(action, meeting_date)
    due = due_in.when if due_in else None
    if due_in:
        action = (action[: due_in.start] + " " + action[due_in.end :]).strip()
    elif (early := find_due(_own_clause(prefix), meeting_date)) is not None:
        due = early.when
    if kind in {"self", "named"} and sentence.rstrip().endswith("?"):
        return None  # a commitment is not a question ("will you be doing it?")
    if _IN_THE_MEETING.search(action) or _ON_SCREEN.match(action):
        return None  # "I'll switch that back here", "I'll pursue that in a sec"
    if kind in {"request", "ask_named"} and re.search(
        r"\b(?:how|why|what|where|when|who)\s*$", _own_clause(prefix), re.I
    ):
        return None  # "how can you make it easier?": a question, not a request
    if _INFO_REQUEST.match(action) and kind != "self" and due is None:
        return None  # "can you give us an idea of…": answered in the meeting, not a to-do
    if re.match(r"^have\b", action, re.I) and due is None and not _HAVE_READY.search(action):
        return None  # "I'll have concerns", "we'll have some kind of map"
    text = _to_do(action, speaker=speaker, owner=owner, listener=listener)
    if not text or (len(text.split()) < 2 and not _VAGUE.match(text)) or _garbled(text):
        return None
    vague = bool(_VAGUE.match(text))
    if vague and kind == "self" and (context := _context(turns, index)):
        # "Oh, I'll sort that out today" answers the turn before: say what "that" is.
        text, vague = f"{text} (re: {context})", False
    return _Candidate(index, kind, owner, text, due, vague=vague)


def _context(turns: Sequence[Turn], index: int) -> str | None:
    """The last sentence of the turn before, by someone else, shortened: what "it" refers to."""
    if index == 0 or turns[index - 1].speaker == turns[index].speaker:
        return None
    said = sentences(clean(turns[index - 1].text))
    words = said[-1].rstrip(".!").split() if said else []
    if len(words) < 4:
        return None
    return " ".join(words[:12]) + ("…" if len(words) > 12 else "")


def _own_clause(prefix: str) -> str:
    """The words just before a trigger, back to the previous trigger's words or a comma."""
    cut = max((m.end() for m in _TRIGGER.finditer(prefix)), default=0)
    return re.split(r"[,;:]\s+|\s+and\s+", prefix[cut:])[-1]


_LEADING = re.compile(
    r"^(?:(?:also|just|then|probably|definitely|actually|quickly|personally|first|now|still|"
    r"please|go ahead and|try to|try and|make sure to|need to|have to|"
    r"want to|be able to|get to|aim to|plan to|start to|take care of|try|all|so|and|too|myself|"
    r"maybe|mind|kindly|sort of|kind of)\b[\s,]*|,\s*)+",
    re.I,
)


def _base_form(body: str) -> str:
    """ "picking up the export" -> "pick up the export" (a rough rule: enough for a to-do)."""
    first, _, rest = body.partition(" ")
    lowered = first.lower()
    if not lowered.endswith("ing") or len(lowered) < 5:
        return body
    stem = first[:-3]
    if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
        stem = stem[:-1]  # getting -> get
    elif re.search(r"[^aeiou][aeiouy][^aeiouwxy]$", stem.lower()) and not re.search(
        r"(?:en|er|on|it|et|ck)$", stem.lower()
    ):
        stem += "e"  # making -> make, writing -> write
    elif re.search(r"(?:at|iz|us|rv|dg|nc|rg|[^i]ng|ov|lv|rit|vit|cit)$", stem.lower()):
        stem += "e"  # updating -> update, using -> use
    return f"{stem} {rest}".strip()


def _strip_lead(body: str) -> str:
    body = body.strip(" ,.?!;:")
    stripped = _LEADING.sub("", body)
    if re.match(r"^be \w+ing\b", stripped, re.I):
        stripped = stripped[3:]
    return stripped.strip(" ,")


_TRAILING = re.compile(
    r"(?:[\s,]+(?:then|right|okay|ok|as well|too|please|so|so that|and|but|for me|if possible|"
    r"if you can|"
    r"if that's okay|if that works|when you get a chance|when you can|yeah|sure|again|"
    r"or so|and all|thanks))+$",
    re.I,
)


#: Requests answered in the meeting itself (committee questions, "can you give us a sense of…").
_INFO_REQUEST = re.compile(
    r"^(?:give (?:us|me) (?:an? |some |any )?(?:idea|sense|snapshot|flavour|flavor|overview|"
    r"example|examples|indication|feel|picture|breakdown|update)|outline|describe|expand|"
    r"elaborate|comment|talk (?:us|me) through|confirm (?:whether|if|that|what|how)|"
    r"say (?:a bit|a little|more|something)|tell the committee|"
    r"update (?:us|me|the committee) on|provide (?:a |an )?(?:short |brief |quick )?"
    r"(?:response|answer)|answer|respond|give (?:us|me) a date|be \w+ing|tell (?:us|me)|set out|"
    r"talk|explain)\b",
    re.I,
)
_HAVE_READY = re.compile(r"\b(?:ready|done|finished|up|over to|out|back to)\b", re.I)
#: Verbs that make "we'll…" or "let's…" a decision rather than a prediction or process talk.
_DECISION_VERBS = re.compile(
    r"^(?:launch|ship|release|go with|go live|go ahead with|use|move|keep|stick with|stick to|"
    r"switch|drop|cut|postpone|delay|push|freeze|stop|cancel|hold off|meet|do a|do the|renew|"
    r"adopt|announce|roll out|run|skip|target|prioriti[sz]e|hire|offer|make|plan to|pick|"
    r"choose|select|change|replace|remove|add|build|buy|sign|approve|reject|limit|set|fix|"
    r"merge|split|give|charge|raise|lower|reduce|increase|start|kill|sunset|deprecate|"
    r"deliver|close|open|publish|send|invite|book|schedule|reschedule|not|never|no longer|"
    r"[a-z]+ing\b)",
    re.I,
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_NOT_VERBS = _words(
    "oh well so uh um like the a an that this it is are was were where what how why when who "
    "doing being based if and but or because just now then there here we they you he she i my "
    "your our can could would should will may might must no yes yeah okay ok right sure very "
    "really quite more most some any all both each every something anything before after until "
    "since in on at for with to of by from"
)


_DANGLING = _words("the a an and or but let is are was if so than which who my your our their its")


def _garbled(text: str, *, verb_first: bool = True) -> bool:
    """Disfluent speech ("Oh, w Oh", "Record the Wi"): not something to show as a to-do."""
    words = [w.strip(",.;:!") for w in text.split()]
    if not words or not words[0][:1].isalpha():
        return True
    if verb_first and words[0].lower() in _NOT_VERBS:
        return True
    cut = any(len(w) == 1 and w.isalpha() and w not in {"a", "A", "I"} for w in words)
    # A to-do does not stop on "the", "that" or "let": the speaker broke off.
    return cut or "?" in text or words[-1].lower() in _DANGLING


def _to_do(action: str, *, speaker: str, owner: str | None, listener: str | None) -> str:
    """``action`` as a to-do a person reads on its own: first person turned into names."""
    speaker_name = _first_name(speaker)
    listener_name = _first_name(listener) if listener and listener != owner else None
    text = re.sub(r"\s+", " ", action).strip(" ,.?!;:")
    text = _TRAILING.sub("", text).strip(" ,.?!;:")
    if not text:
        return ""
    replacements: list[tuple[str, str]] = []
    if owner != speaker:
        replacements += [
            (r"\bme\b", speaker_name),
            (r"\bmy\b", f"{speaker_name}'s"),
            (r"\bmyself\b", speaker_name),
            (r"\byour\b", "their"),
            (r"\byou\b", _first_name(owner) if owner else "you"),
        ]
    else:
        replacements += [
            (r"\bmy\b", "their"),
            (r"\bme\b", speaker_name),
            (r"\s*\bmyself\b", ""),
        ]
        if listener_name:
            replacements += [
                (r"\byou (?:both|all|guys)\b", "everyone"),
                (r"\byou\b", listener_name),
                (r"\byour\b", f"{listener_name}'s"),
            ]
    for pattern, replacement in replacements:
        text = re.sub(pattern, replacement, text, flags=re.I)
    text = re.sub(r"\bi\b", "I", text)
    return text[:1].upper() + text[1:]


def _addressee(prefix: str, body: str, people: _People, speaker: str) -> str | None:
    """The person a request names: "Ben, can you…", "can you…, Ben?", "ben can you…"."""
    head = re.search(r"([A-Za-z][a-z]+)(,?)\s*(?:also\s+)?$", prefix.strip())
    if head:
        # A word that is not a speaker's name names someone only with a comma: "Wendy, can you".
        person = people.lookup(head[1]) or (
            people.name(head[1], capitalised_only=True) if head[2] else None
        )
        if person and person != speaker:
            return person
    tail = re.search(r",\s*([A-Za-z][a-z]+)\s*[?.!]?\s*$", body)
    if tail:
        person = people.name(tail[1], capitalised_only=True)
        if person and person != speaker:
            return person
    return None


def _strip_address(action: str, owner: str | None) -> str:
    if owner:
        action = re.sub(rf",\s*{re.escape(_first_name(owner))}\s*$", "", action, flags=re.I)
    return action


def _next_speaker(turns: Sequence[Turn], index: int) -> str | None:
    speaker = turns[index].speaker
    return next((t.speaker for t in turns[index + 1 :] if t.speaker != speaker), None)


def _previous_speaker(turns: Sequence[Turn], index: int) -> str | None:
    speaker = turns[index].speaker
    return next((t.speaker for t in reversed(turns[:index]) if t.speaker != speaker), None)


def _merge(candidates: list[_Candidate]) -> list[tuple[int, ActionItem]]:
    """Requests completed by their owner's answer; vague leftovers and repeats dropped."""
    for i, asked in enumerate(candidates):
        if asked.kind == "self" or asked.owner is None:
            continue
        for answer in candidates[i + 1 :]:
            if answer.turn > asked.turn + 2:
                break
            if answer.kind == "self" and answer.owner == asked.owner and not answer.merged:
                if answer.turn == asked.turn:
                    continue
                answer.merged = True
                asked.due = asked.due or answer.due
                break
    items: list[tuple[int, ActionItem]] = []
    seen: set[tuple[str | None, str]] = set()
    for candidate in candidates:
        if candidate.merged or candidate.vague:
            continue
        key = (candidate.owner, candidate.text.lower())
        if key in seen:
            continue
        seen.add(key)
        item = ActionItem(text=candidate.text, owner=candidate.owner, due=candidate.due)
        items.append((candidate.turn, item))
    return items


_HEDGE = re.compile(
    r"\b(?:i guess|i think|i don't think|i suppose|maybe|probably|hopefully|i hope|i believe|"
    r"we believe|perhaps|i'm sure|i bet)\b",
    re.I,
)
_NEGATIVE = re.compile(r"\b(?:not|won't)$", re.I)
_NOT_DECIDED = re.compile(
    r"^(?:sure|there|ready|able|aware|done|clear|certain|happy|going|doing|trying|talking|saying|"
    r"looking|asking|getting|seeing|expecting|planning)\b",
    re.I,
)


def _decision(prefix: str, body: str, said: str, sentence: str) -> str | None:
    if _REPORTED.search(prefix) or _HYPOTHETICAL.search(prefix) or _HEDGE.search(prefix):
        return None
    ending = sentence.rstrip()
    if ending.endswith("?") and not re.search(r"\bright\s*\?$", ending, re.I):
        return None
    if _QUESTION_WORDS.search(_own_clause(prefix).strip()):
        return None
    if _NEGATIVE.search(said):
        # "We're not moving the date", "we won't ship on Friday": only with a verb of doing.
        first = body.split()[0].lower() if body.split() else ""
        doing = bool(
            _DECISION_VERBS.match(_base_form(body))
            if said.lower().endswith("not") and first.endswith("ing")
            else not said.lower().endswith("not") and _DECISION_VERBS.match(body)
        )
        if not doing or _NOT_DECIDED.match(body) or _DECISION_FIGURES.match(body):
            return None
        return said[:1].upper() + said[1:] + " " + _TRAILING.sub("", body).strip(" ,.?!;:")
    statement = re.sub(
        r"^(?:(?:last|this|on|earlier|yesterday|today|week|month|\w+day)\s+){0,3}(?:to|that|on)\s+",
        "",
        body.strip(" ,.?!;:"),
        flags=re.I,
    )
    statement = _LEADING.sub("", statement)
    if not statement or _DECISION_FIGURES.search(statement):
        return None
    if not re.search(
        r"agreed|decided|decision|plan|going with", said, re.I
    ) and not _DECISION_VERBS.match(statement):
        return None  # "we'll get through it", "let's do belief": not a decision
    if _garbled(statement, verb_first=False) or len(statement.split()) < 3:
        return None
    if re.search(r"\?$", body.strip()) and not re.search(r"\bright\s*\??$", body.strip(), re.I):
        return None
    statement = _TRAILING.sub("", statement).strip(" ,.?!;:")
    statement = re.sub(r"\bi\b", "I", statement)
    if len(statement.split()) < 2:
        return None
    return statement[:1].upper() + statement[1:]


def _unique_decisions(decisions: list[tuple[int, str]]) -> list[tuple[int, str]]:
    seen: set[str] = set()
    kept = []
    for index, statement in decisions:
        if statement.lower() not in seen:
            seen.add(statement.lower())
            kept.append((index, statement))
    return kept
