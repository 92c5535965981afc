"""A proxy batch generated from the batch list: the generation waits for a worker, its page
polls, then shows what was found and leads to the batch."""

import re

import pytest
from playwright.sync_api import expect

from collection.models import ProxyGeneration
from collection.tasks import generate_proxy_batch
from enrollment.tests.factories import ResidentFactory, list_as


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """Ids of the generations sent to the worker, which is not running: the test runs them."""
    sent: list[int] = []
    monkeypatch.setattr(generate_proxy_batch, "delay", sent.append)
    return sent


@pytest.fixture
def listed(village):
    """A resident on the 2023 低保 list with no proxy payment."""
    resident = ResidentFactory(village=village, name="岩听")
    list_as(resident, "dibao")
    return resident


def test_county_staff_generate_a_batch_from_the_list_and_watch_it_finish(
    page, console, log_in_as, county_user, listed, queued
):
    log_in_as(county_user)
    page.goto("/collection/proxy/")
    page.get_by_label("缴费年度").select_option("2023")
    page.get_by_role("button", name="生成代缴批次").click()

    expect(page).to_have_url(re.compile(r"/collection/proxy/generations/\d+/$"))
    status = page.locator("#generation-status")
    expect(status).to_have_attribute("data-status", "pending")
    expect(page.get_by_role("progressbar", name="生成进度")).to_be_visible()

    generation = ProxyGeneration.objects.get()
    assert queued == [generation.pk]
    generate_proxy_batch(generation.pk)  # what the worker does when it picks it up

    expect(status).to_have_attribute("data-status", "done")
    expect(status.get_by_role("alert")).to_contain_text("本次列入 1 人")
    status.get_by_role("link", name=re.compile("查看批次")).click()
    expect(page.get_by_role("cell", name=listed.masked_id)).to_be_visible()
    console.assert_clean()
