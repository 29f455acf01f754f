"""The labelled transcripts of bench/action_items.py: well-formed, and the goals of issue #16
(precision >= 0.9, recall >= 0.8 for action items) held on all of them."""

from __future__ import annotations

import json
from pathlib import Path

from bench.action_items import GOAL_PRECISION, GOAL_RECALL, evaluate, load, qmsum_rows


def test_the_labelled_set_is_varied_and_well_formed() -> None:
    meetings = load()
    assert len(meetings) >= 25
    assert {m.split for m in meetings} == {"dev", "test", "holdout"}
    labelled = sum(len(labels) for m in meetings for labels in m.items)
    traps = sum(m.traps.count(True) for m in meetings)
    assert labelled + sum(sum(m.decisions) for m in meetings) + traps >= 150
    for meeting in meetings:
        speakers = {t.speaker for t in meeting.turns}
        for labels in meeting.items:
            for owner, due in labels:
                assert owner, meeting.name
                assert due is None or due >= meeting.meeting_date, meeting.name
        assert len(speakers) >= 2, meeting.name


def test_items_and_decisions_meet_the_goals_on_all_meetings() -> None:
    score = evaluate(load(), None)
    precision = score.matched / score.found
    recall = score.matched / score.labelled
    assert precision >= GOAL_PRECISION, score.false
    assert recall >= GOAL_RECALL, score.misses
    assert score.decisions_matched / score.decisions_found >= GOAL_PRECISION
    assert score.decisions_matched / score.decisions_labelled >= GOAL_RECALL
    assert score.traps_fired == 0


def test_the_qmsum_measure_reads_the_corpus_format(tmp_path: Path) -> None:
    meeting = {
        "meeting_transcripts": [
            {"speaker": "Grad A", "content": "OK , we 're on . {vocalsound}"},
            {"speaker": "Professor B", "content": "I 'll send the slides to the list tomorrow ."},
            {"speaker": "Grad A", "content": "Can you hear me ?"},
        ]
    }
    (tmp_path / "Tiny.json").write_text(json.dumps(meeting))
    rows, summary = qmsum_rows(tmp_path, repeats=1)
    assert [(r[0], r[1], r[4], r[5]) for r in rows] == [("Tiny", 15, 1, 0)]
    assert summary.startswith("1 QMSum validation meetings")
