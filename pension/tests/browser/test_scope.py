"""Region scope seen from the address bar: a township clerk who types the address of another
township's resident gets "not found", not the resident."""

from playwright.sync_api import expect

from enrollment.tests.factories import ResidentFactory


def test_a_township_user_typing_another_townships_resident_address_gets_404(
    page, log_in_as, township_user, resident, other_village
):
    neighbour = ResidentFactory(village=other_village)
    log_in_as(township_user)

    own = page.goto(f"/residents/{resident.id_number}/")
    assert own is not None and own.status == 200
    expect(page.get_by_role("navigation", name="breadcrumb")).to_contain_text(resident.name)

    other = page.goto(f"/residents/{neighbour.id_number}/")

    assert other is not None and other.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("页面不存在")
    expect(page.get_by_role("link", name="返回工作台")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(neighbour.name)
