"""Setting a creator's pay plan from the creator page, in Chromium, on the demo store: a creator
without a plan gets 10% with repeats for 6 months, a percent over 100 is refused at its field,
a second open-ended plan is refused in words saying what to do, and the page fits 1280 and 390 px."""

from __future__ import annotations

import re
from typing import Any

import pytest
from browsing import LiveServer, open_demo
from test_merchant_week import OVERFLOW, shots

pytestmark = pytest.mark.browser

CREATOR = "Owen Shaw"  # the demo roster's creator with no pay plan


def fits(tab: Any, where: str, widths: tuple[int, ...] = (1280, 390, 360)) -> None:
    for width in widths:
        tab.set_viewport_size({"width": width, "height": 900})
        fit = tab.evaluate(OVERFLOW)
        assert fit["scroll"] <= width and not fit["found"], (where, width, fit)
    tab.set_viewport_size({"width": 1280, "height": 900})


def open_creator(tab: Any, live: LiveServer, name: str) -> None:
    open_demo(tab, live)
    tab.get_by_role("link", name="All time").click()
    tab.wait_for_url(re.compile(r"range=all"))
    tab.locator("#creators-table tbody th a", has_text=name).first.click()
    tab.wait_for_url(re.compile(r"/app/creators/\d+"))
    tab.wait_for_load_state("networkidle")


def focused_id(tab: Any) -> str:
    return tab.evaluate("() => document.activeElement && document.activeElement.id")


def test_a_pay_plan_is_set_from_the_creator_page(page, live):
    open_creator(page, live, CREATOR)
    pay = page.locator("#pay-section")
    assert pay.locator("#pay-plan").text_content().startswith("No pay plan in force")

    pay.get_by_text("Set a pay plan").click()
    form = page.locator("#set-plan")
    assert form.get_by_label("Starts on").input_value()  # today in the shop's time
    form.get_by_label("Commission, % of each order").fill("150")
    form.get_by_label("Commission on repeat orders, %").fill("10")
    form.get_by_label("Repeats paid for (months)").fill("6")
    form.get_by_role("button", name="Save plan").click()
    error = page.locator("#set-plan-commission_percent-error")
    error.wait_for(state="visible")
    assert error.text_content() == "Enter a number from 0 to 100."
    assert focused_id(page) == "set-plan-commission_percent"
    assert page.locator("#set-plan-commission_percent").get_attribute("aria-invalid") == "true"
    assert form.get_by_label("Repeats paid for (months)").input_value() == "6"  # what was typed is kept
    fits(page, "plan form with an error")
    shots(page, "plan-form-error")

    form.get_by_label("Commission, % of each order").fill("10")
    form.get_by_role("button", name="Save plan").click()
    said = page.locator("#pay-plan")
    said.filter(has_text="10% of each order's net merchandise").wait_for()
    assert "10% on repeat orders for 6 months" in said.text_content()
    assert said.text_content().startswith("Plan since")
    fits(page, "creator with a plan")
    shots(page, "plan-set")

    # A second open-ended plan from the same day: refused at the start, saying what to do.
    page.locator("#pay-section").get_by_text("Set a pay plan").click()
    page.locator("#set-plan").get_by_label("Commission, % of each order").fill("12")
    page.locator("#set-plan").get_by_role("button", name="Save plan").click()
    starts_error = page.locator("#set-plan-starts_on-error")
    starts_error.wait_for(state="visible")
    assert "End that plan first" in starts_error.text_content()
    assert focused_id(page) == "set-plan-starts_on"

    # Ending the current plan is one click away; the block then says until when.
    page.locator("#pay-section").get_by_text("End the current plan").click()
    ends = page.locator("#end-plan").get_by_label("Last day of the current plan").input_value()
    page.locator("#end-plan").get_by_role("button", name="End plan").click()
    page.locator("#pay-plan").filter(has_text=f"until {ends}").wait_for()
    fits(page, "creator with an ended plan")
