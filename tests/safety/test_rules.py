"""Every crisis rule has an id, a level and at least three positive and three hard-negative examples, and each
example is checked on its own against that rule."""

from __future__ import annotations

import pytest

from community.platform.safety import crisis
from community.platform.safety.rule_examples import EXAMPLES

RULES = {rule.name: rule for rule in crisis._RULES}
POSITIVES = [(rule_id, text) for rule_id, (positives, _) in EXAMPLES.items() for text in positives]
NEGATIVES = [(rule_id, text) for rule_id, (_, negatives) in EXAMPLES.items() for text in negatives]


def _is_candidate(rule_id: str, text: str) -> bool:
    """The rule's keywords are in the text, so the rule really looked at it (a hard negative, not an easy one)."""
    normal = text.translate(crisis._NORMALISE)
    return any(crisis._PARTS[number][0].name == rule_id
               for _, raw in crisis._sentences(normal) for number in crisis._candidate_parts(raw.lower()))


def test_every_rule_has_a_unique_id_a_level_and_examples():
    assert len(RULES) == len(crisis._RULES)
    assert set(EXAMPLES) == set(RULES)
    for rule_id, rule in RULES.items():
        assert rule.level in (crisis.RISK, crisis.DISTRESS), rule_id
        positives, negatives = EXAMPLES[rule_id]
        assert len(positives) >= 3 and len(negatives) >= 3, rule_id


@pytest.mark.parametrize(("rule_id", "text"), POSITIVES)
def test_the_rule_fires_on_its_positive(rule_id, text):
    result = crisis.detect_rules(text)
    assert rule_id in result.sources
    assert result.level in (RULES[rule_id].level, crisis.RISK)


@pytest.mark.parametrize(("rule_id", "text"), NEGATIVES)
def test_the_rule_does_not_fire_on_its_hard_negative(rule_id, text):
    assert _is_candidate(rule_id, text)
    assert rule_id not in crisis.detect_rules(text).sources
