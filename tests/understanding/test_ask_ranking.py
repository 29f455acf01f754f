"""understanding.ask: ranking passages for a question and the embedded engine's answer."""

from __future__ import annotations

import math

import pytest

from tests.understanding.ask_fixtures import hits, meeting, passages
from understanding.ask import NOT_FOUND, answer, rank
from understanding.retrieval import parse_question, stem
from understanding.types import Passage


def recall_at_3(name: str) -> tuple[float, float]:
    """The ranker's recall@3 on the meeting's questions, and a random order's (expected)."""
    found, ranges = passages(name)
    questions = meeting(name)["specific_query_list"]
    hit = chance = 0.0
    for item in questions:
        gold = hits(ranges, item["relevant_text_span"])
        ranked = [int(p.ref) for p in rank(item["query"], found)]
        hit += bool(gold & set(ranked[:3]))
        chance += 1 - math.comb(len(found) - len(gold), 3) / math.comb(len(found), 3)
    return hit / len(questions), chance / len(questions)


def test_the_gold_passage_ranks_in_the_first_three_for_a_known_question() -> None:
    found, ranges = passages("education_10")
    item = next(
        q
        for q in meeting("education_10")["specific_query_list"]
        if q["query"] == "What was the solution to risk appetite?"
    )
    ranked = [int(p.ref) for p in rank(item["query"], found)]
    assert hits(ranges, item["relevant_text_span"]) & set(ranked[:3])


@pytest.mark.parametrize("name", ["TS3010b", "education_10"])
def test_ranking_finds_gold_spans_far_better_than_chance(name: str) -> None:
    ours, chance = recall_at_3(name)
    assert ours >= 0.5
    assert ours >= chance + 0.25


def test_rank_returns_every_passage_best_first_with_its_score() -> None:
    found, _ = passages("education_10")
    ranked = rank("What was the solution to risk appetite?", found)
    assert sorted(p.ref for p in ranked) == sorted(p.ref for p in found)
    scores = [p.score for p in ranked]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    assert all(p.score == 0 for p in found)  # the caller's passages are left as they were


def test_the_question_frame_weighs_nothing() -> None:
    query = parse_question("What did the group discuss about the remote control's batteries?")
    assert set(query.weights) == {stem("remote"), stem("control"), stem("batteries")}
    # One passage says the frame's words, the other what it asks about.
    frame = Passage(ref="frame", text="Ada: Let us discuss this as a group and summarize it.")
    topic = Passage(ref="topic", text="Grace: The battery in the remote control lasts a year.")
    filler = [Passage(ref=f"f{i}", text=f"Alan: Lunch is at {i}.") for i in range(5)]
    ranked = rank("Summarize the group's discussion about the batteries", [frame, topic, *filler])
    assert ranked[0].ref == "topic"


def test_morphology_matches_what_was_said() -> None:
    assert stem("designers") == stem("designing") == stem("design")
    assert stem("batteries") == stem("battery")
    assert stem("evaluation") == stem("evaluate")
    said = Passage(ref="said", text="Ada: We evaluated three designs for the batteries.")
    other = Passage(ref="other", text="Grace: The evaluation of lunch options is pending.")
    ranked = rank("How was the battery design evaluated?", [other, said])
    assert ranked[0].ref == "said"


def test_the_speaker_named_in_the_question_counts() -> None:
    query = parse_question(
        "What did the project manager say about the budget?",
        ["Project Manager", "Marketing", "Industrial Designer"],
    )
    assert query.speakers == {"Project Manager"}
    assert set(query.weights) == {stem("budget")}
    pm = Passage(ref="pm", text="Project Manager: The budget is tight this quarter.")
    them = Passage(ref="them", text="Marketing: The budget is tight this quarter.")
    ranked = rank("What did the project manager say about the budget?", [them, pm])
    assert ranked[0].ref == "pm"


def test_lettered_speakers_are_told_apart() -> None:
    speakers = ["PhD A", "PhD B", "Grad E", "Professor C"]
    assert parse_question("What did PhD B think about the results?", speakers).speakers == {"PhD B"}
    assert parse_question("What did C think about the setup?", speakers).speakers == {"Professor C"}
    assert parse_question("What did the professor think?", speakers).speakers == {"Professor C"}
    # "A" opening a question is the article, not speaker A.
    assert parse_question("A question about results", speakers).speakers == frozenset()


def test_neighbours_lift_a_passage_in_the_middle_of_the_talk_about_it() -> None:
    def p(ref: str, text: str) -> Passage:
        return Passage(ref=ref, text=text, meeting_title="M")

    alone = p("alone", "Ada: The budget.")
    lunch = [p(f"l{i}", "Grace: Lunch is ready.") for i in range(3)]
    middle = [
        p("before", "Alan: The budget is tight."),
        p("middle", "Ada: The budget."),
        p("after", "Grace: The budget is settled."),
    ]
    ranked = [x.ref for x in rank("What about the budget?", [alone, *lunch, *middle])]
    assert ranked.index("middle") < ranked.index("alone")


def test_the_answer_puts_the_answering_sentence_first_with_its_speaker() -> None:
    found, _ = passages("education_10")
    reply = answer("What was the solution to risk appetite?", found)
    assert reply.found and reply.engine == "embedded"
    first = reply.text.splitlines()[0]
    assert "risk appetite" in first.lower()
    assert ":" in first  # "Speaker: sentence"
    assert 40 <= len(reply.text.split()) <= 125
    ranked = rank("What was the solution to risk appetite?", found)
    assert reply.citations == [p.ref for p in ranked[:3]]


def test_the_answer_cites_only_as_many_passages_as_asked() -> None:
    found, _ = passages("TS3010b")
    reply = answer("What did the Industrial Designer say about the battery?", found, limit=1)
    assert len(reply.citations) == 1
    assert "battery" in reply.text.lower()


def test_an_unrelated_question_is_not_answered() -> None:
    found, _ = passages("TS3010b")
    reply = answer("What is the capital of Mongolia and its population?", found)
    assert reply == reply.model_copy(update={"found": False, "citations": [], "text": NOT_FOUND})


@pytest.mark.parametrize("question", ["", "?", "What did they discuss?"])
def test_a_question_with_nothing_to_look_for_is_not_answered(question: str) -> None:
    found, _ = passages("TS3010b")
    assert not answer(question, found).found


def test_no_passages_no_answer() -> None:
    assert rank("budget?", []) == []
    assert not answer("What about the budget?", []).found


def test_spelled_out_acronyms_match_and_read_as_acronyms() -> None:
    lunch = [Passage(ref=f"l{i}", text=f"Grace: Lunch is at {i}.") for i in range(4)]
    screen = Passage(ref="lcd", text="Industrial Designer: The L_C_D_ will cost us two euros more.")
    reply = answer("What did they say about the LCD?", [*lunch, screen])
    assert reply.citations[0] == "lcd"
    assert reply.text.startswith("Industrial Designer: The LCD will cost us two euros more.")


def test_the_answer_leaves_out_hesitations() -> None:
    said = Passage(
        ref="p", text="Ada: Uh so the um budget is, uh, ten thousand euros for the launch."
    )
    reply = answer("What is the budget for the launch?", [said])
    assert reply.text == "Ada: so the budget is, ten thousand euros for the launch."


def test_a_sentence_asking_the_question_is_not_the_answer() -> None:
    talk = Passage(
        ref="p",
        text=(
            "Hefin David: Is the launch budget for the remote going to be ten thousand euros?\n"
            "Grace Hopper: Yes, we set the launch budget at ten thousand euros last week."
        ),
    )
    reply = answer("What is the launch budget for the remote?", [talk])
    assert reply.text.startswith("Grace Hopper: Yes, we set the launch budget")


def test_a_question_mostly_about_words_nobody_said_is_not_answered() -> None:
    found = [Passage(ref=f"l{i}", text=f"Grace: Lunch is at {i} today.") for i in range(9)]
    found.append(Passage(ref="b", text="Ada: The budget is ten thousand euros."))
    # "budget" is said; "embassy" and "reception" nowhere: a guess, not an answer.
    assert not answer("What was the budget of the embassy reception?", found).found
    assert answer("What was the budget?", found).found


def test_a_sentence_too_long_for_an_answer_is_cut_and_says_so() -> None:
    rambling = " ".join(["the budget grows"] * 100)  # 300 words, no full stop
    reply = answer("What about the budget?", [Passage(ref="p", text=f"Ada: {rambling}")])
    assert reply.text.endswith(" …")
    assert len(reply.text.split()) <= 121


def test_a_person_is_named_by_their_last_name() -> None:
    speakers = ["The Chair", "Hon. Bill Morneau", "Hon. Navdeep Bains", "Julie Morgan AM"]
    query = parse_question("What did Morneau say about the debt?", speakers)
    assert query.speakers == {"Hon. Bill Morneau"}
    assert set(query.weights) == {stem("debt")}
    assert parse_question("What did the Chair say?", speakers).speakers == {"The Chair"}


def test_a_passage_without_speaker_lines_is_spoken_by_its_speaker() -> None:
    pm = Passage(ref="pm", text="The budget is tight this quarter.", speaker="Project Manager")
    them = Passage(ref="them", text="The budget is tight this quarter.", speaker="Marketing")
    ranked = rank("What did the project manager say about the budget?", [them, pm])
    assert ranked[0].ref == "pm"
    reply = answer("What did the project manager say about the budget?", [them, pm])
    assert reply.text.startswith("Project Manager: The budget is tight")
