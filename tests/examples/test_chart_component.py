"""The chart example's component through livepy.testing: every change is pushed to its hook."""

from __future__ import annotations

from livepy.demo import load_example
from livepy.protocol.constants import EFFECT_HOOK_EVENT


def test_chart_pushes_each_new_series_to_its_hook() -> None:
    chart = load_example("chart")
    test = chart.live.test(chart.Chart)
    test.assert_see("8 points")
    test.call("add_point", 150)  # clamped to the chart's range
    assert test.state["points"][-1] == 100.0
    assert test.effects == [(EFFECT_HOOK_EVENT, ["points", test.state["points"]])]
    for _ in range(40):
        test.call("tick")
    assert len(test.state["points"]) == chart.MAX_POINTS
    test.call("clear").assert_see("0 points")
    assert test.effects[-1] == (EFFECT_HOOK_EVENT, ["points", []])


def test_the_hooked_element_goes_with_show() -> None:
    chart = load_example("chart")
    test = chart.live.test(chart.Chart)
    test.assert_see_html('lp-hook="Chart"')
    test.call("toggle_chart")
    assert 'lp-hook="Chart"' not in test.html
