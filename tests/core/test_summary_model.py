"""The summariser's learned sentence model: its weights file, its features, and the script that learns it."""
from __future__ import annotations

import json
from dataclasses import replace
from importlib import resources

import pytest

from bench.train_summariser import LEARNED, Doc, fit, parse_spec
from bot.core.summarise import score_sentences, summarise
from bot.core.summary_model import FEATURES, features, relative, weights_for


def test_every_language_group_weighs_every_feature_and_names_its_data() -> None:
    raw = json.loads(resources.files("bot.core").joinpath("data/summary_weights.json").read_text("utf-8"))
    for group in ("zh", "en"):
        assert set(FEATURES) <= set(raw["weights"][group]), group
        note = raw["learned"][group]
        assert "val" in note and "test" not in note  # learned on validation data only
    assert weights_for("ja") == weights_for("zh")  # Japanese and anything else use the Chinese weights


def test_features_mark_the_last_candidate_and_weak_ones() -> None:
    plain = dict(zip(FEATURES, features("会议决定明年起实施新规。", 0.5, 3, 0.0, "zh", 1.0), strict=True))
    marked = dict(zip(FEATURES, features("会议决定明年起实施新规。", 0.5, 3, 0.0, "zh", 1.0, last=True, weak=True),
                      strict=True))
    assert (plain["last"], plain["weak"]) == (0.0, 0.0)
    assert (marked["last"], marked["weak"]) == (1.0, 1.0)
    assert plain["position"] == pytest.approx(4 ** -1.0)


def test_learning_follows_where_the_references_are() -> None:
    """Articles whose human summary is always their last sentence teach a positive `last` weight,
    and the summariser with the learned weights then picks the last sentence."""
    at = {f: i for i, f in enumerate(LEARNED)}

    def vector(ordinal: int, n: int) -> list[float]:
        v = [0.0] * len(LEARNED)
        v[at["position"]] = (1.0 + ordinal) ** -1.0
        v[at["first"]] = float(ordinal == 0)
        v[at["last"]] = float(ordinal == n - 1)
        v[at["centrality"]] = 0.5
        return v

    docs = [Doc([vector(i, n) for i in range(n)], [0.0] * (n - 1) + [0.8], [0.0] * n) for n in (3, 4, 5) * 10]
    learned = fit(docs, 0.0, {"centrality": 1.0, "position": 1.0})
    assert learned["last"] > 1.0 > learned["first"]

    paragraphs = ["市政府今天召开新闻发布会。", "发布会介绍了上半年的经济数据。", "全市地铁票价明年一月起下调两元。"]
    tuned = replace(weights_for("zh"), **{f: round(v, 3) for f, v in learned.items()})
    assert summarise(paragraphs, "", "zh", max_sentences=1, weights=tuned) == [paragraphs[-1]]


def test_scores_are_shares_of_the_best_and_never_zero() -> None:
    assert relative([]) == []
    assert relative([3.0, 1.0]) == pytest.approx([1.0, 0.1353352832])
    far = relative([0.0, -1e6])  # however far below the best, still a candidate: 0.0 means "never chosen"
    assert far[0] == 1.0 and 0.0 < far[1] < 1e-200


def test_each_sentence_left_out_says_why() -> None:
    scored = score_sentences(
        ["新华社北京3月7日电 国务院常务会议今天决定，明年起下调小微企业所得税。", "国务院决定下调小微企业所得税。",
         "此次减税预计每年为企业减负约两千亿元，惠及数百万家小微企业。", "2024年1-9月", "责任编辑：张三"],
        "国务院决定下调小微企业所得税",
    )
    why = {s.text: s.why for s in scored}
    assert why["国务院常务会议今天决定，明年起下调小微企业所得税。"] == ""
    assert why["国务院决定下调小微企业所得税。"] == "repeats the headline"
    assert why["2024年1-9月"] == "not a sentence"
    assert why["责任编辑：张三"] == "boilerplate"
    assert scored[0].byline == "新华社北京3月7日电" and scored[0].score == 1.0


@pytest.mark.parametrize("spec", ["/data/lcsts_test.tsv:1", "/data/cnndm_TEST_frank.tsv:3"])
def test_the_trainer_refuses_a_test_split(spec: str) -> None:
    with pytest.raises(SystemExit, match="test split"):
        parse_spec(spec)


def test_the_trainer_needs_the_sentence_count() -> None:
    with pytest.raises(SystemExit, match="FILE.tsv:K"):
        parse_spec("/data/lcsts_val.tsv")
