"""Choosing the thresholds: the constraints hold whatever the reward would prefer."""

from __future__ import annotations

from knowledge.fit import MAX_WRONG, MIN_OOS_REJECTION, Outcomes, choose_thresholds


def resident(conf: float, right: bool) -> Outcomes:
    return Outcomes(True, conf, right, right, 0.0, False)


def outside(conf: float, law_conf: float = 0.0) -> Outcomes:
    return Outcomes(False, conf, False, False, law_conf, False)


def test_wrong_answers_are_capped_even_when_answering_more_would_pay() -> None:
    # 60 sure and right; 40 at 0.55 of which 22 right, 18 wrong: answering them all nets +4 but makes
    # 18 % of the questions wrong answers.
    rows = [resident(0.9, True)] * 60 + [resident(0.55, True)] * 22 + [resident(0.55, False)] * 18
    answer, *_ = choose_thresholds(rows + [outside(0.0)] * 50)
    assert answer > 0.55  # the 0.55 band is not answered (at most candidates)
    assert MAX_WRONG == 0.10


def test_out_of_scope_rejection_is_kept() -> None:
    rows = [resident(0.7, True)] * 50 + [outside(0.7)] * 3 + [outside(0.0)] * 47
    answer, *_ = choose_thresholds(rows)
    # Answering at 0.7 would let 3 of 50 out-of-scope messages through (94 % < 97 %).
    assert answer > 0.7 and MIN_OOS_REJECTION > 0.94


def test_lay_questions_move_only_the_law_threshold() -> None:
    # Residents: bare articles at law confidence 0.3 would be wrong for four of them (9 %).
    rows = [resident(0.9, True)] * 40 + [Outcomes(True, 0.1, False, False, 0.3, False)] * 4 + [outside(0.0)] * 40
    # Lay questions no entry covers: the first article at law confidence 0.2 is right for thirty.
    lay = [Outcomes(True, 0.1, False, False, 0.2, True)] * 30
    alone = choose_thresholds(rows)
    with_lay = choose_thresholds(rows, lay)
    assert alone[2] > 0.3 and with_lay[2] <= 0.2
    assert with_lay[:2] == alone[:2]


def test_impossible_constraints_are_an_error_not_a_silent_default() -> None:
    import pytest

    # Out-of-scope messages every threshold would answer: 97 % rejection cannot be had.
    rows = [resident(0.9, True)] * 50 + [outside(1.0)] * 10 + [outside(0.0)] * 10
    with pytest.raises(ValueError, match="out-of-scope rejection"):
        choose_thresholds(rows)


def test_legal_questions_get_the_law_tier_only_as_far_as_chit_chat_stays_unanswered() -> None:
    # Lay questions whose best article is unsure (law confidence 0.1) but plainly legal (0.9 and
    # 0.99); their first article is right for one in three (a reward of +0.1 per question on average).
    lay = ([Outcomes(True, 0.0, False, False, 0.1, True, False, 0.99)] * 10
           + [Outcomes(True, 0.0, False, False, 0.1, False, False, 0.99)] * 20
           + [Outcomes(True, 0.0, False, False, 0.1, True, False, 0.9)] * 10
           + [Outcomes(True, 0.0, False, False, 0.1, False, False, 0.9)] * 20)
    rows = [resident(0.9, True)] * 50 + [outside(0.0)] * 97
    # Three everyday messages look as legal as 0.9 (they would be answered below 0.925).
    tricky = [Outcomes(False, 0.0, False, False, 0.1, False, False, 0.92)] * 3
    *_, legal = choose_thresholds(rows + tricky, lay)
    assert 0.92 < legal <= 0.99  # the 0.99 ones are answered, the 0.9 ones may not be
    *_, none = choose_thresholds(rows + tricky, [])
    assert none == 1.01  # nothing to gain: off


def test_a_calibration_file_from_before_a_model_existed_leaves_that_model_off(tmp_path) -> None:
    from knowledge.calibration import Calibration

    old = tmp_path / "calibration.toml"
    old.write_text("entry_weights = [1.0, 2.0, 3.0, 4.0]\nentry_bias = -1.0\nlaw_weights = [1.0]\nlaw_bias = -2.0\n"
                   "answer_threshold = 0.6\nambiguous_threshold = 0.4\nlaw_threshold = 0.5\n", encoding="utf-8")
    cal = Calibration.load(old)
    assert cal.entry_weights == (1.0, 2.0, 3.0, 4.0, 0.0, 0.0)  # new features weigh nothing until re-fitted
    assert cal.law_first_threshold > 1 and cal.legal_threshold > 1  # never reached by a probability
    assert cal.route(0.0, 0.49, 1.0) == "none" and cal.route(0.0, 0.5, 0.0) == "law"


def test_the_route_follows_the_thresholds_in_order() -> None:
    from knowledge.calibration import Calibration

    cal = Calibration(answer_threshold=0.6, ambiguous_threshold=0.4, law_threshold=0.5, law_first_threshold=0.7,
                      legal_threshold=0.9)
    assert cal.route(0.65, 0.2, 0.0) == "answer"
    assert cal.route(0.95, 0.2, 0.0, tie=True) == "choose"  # two different answers tie: the resident chooses
    assert cal.route(0.65, 0.75, 0.0) == "law"  # the law tier sure enough and likelier right goes first
    assert cal.route(0.8, 0.75, 0.0) == "answer"  # … but not ahead of a likelier entry
    assert cal.route(0.45, 0.2, 0.0) == "choose"
    assert cal.route(0.3, 0.55, 0.0) == "law"  # the fallback when no entry is even a candidate
    assert cal.route(0.3, 0.2, 0.95) == "law"  # surely a legal question
    assert cal.route(0.3, 0.2, 0.85) == "none"


def test_among_equally_good_answer_thresholds_the_one_leaving_room_for_the_law_tier_wins() -> None:
    # Residents: answering at 0.6 gains three more right answers (+3) but lets one of 100 everyday
    # messages through (−2); the law tier (law confidence 0.5) would take three more, and four of 100
    # is past the allowance (97 %), so with the lower answer threshold the law tier cannot answer.
    rows = ([resident(0.9, True)] * 50 + [resident(0.62, True)] * 3 + [outside(0.61)]
            + [outside(0.0, law_conf=0.5)] * 3 + [outside(0.0)] * 96)
    # Lay questions whose first article is right, at the same law confidence: forty of them.
    lay = [Outcomes(True, 0.0, False, False, 0.5, True)] * 40
    alone = choose_thresholds(rows)
    assert alone[0] <= 0.6  # residents alone: the extra right answers are worth the everyday message
    answer, _, law, _, _ = choose_thresholds(rows, lay)
    assert answer > 0.61 and law <= 0.5  # one reward point less for residents, forty lay questions answered
