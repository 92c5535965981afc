from django.urls import reverse

from collection.models import ContributionSchedule, Tier
from pension.models import User


def test_the_admin_lists_both_2023_schedules_with_their_tiers_marked_pending(client, db):
    admin = User.objects.create_superuser("root", password="x-long-password-1")
    client.force_login(admin)
    page = client.get(reverse("admin:collection_contributionschedule_changelist")).content.decode()
    assert "甘肃省 2023 年缴费方案" in page and "云南省 2023 年缴费方案" in page
    assert "300、400、500" in page and "100（代缴）、200" in page
    assert page.count("待核定") >= 2


def test_the_admin_refuses_a_falling_subsidy_and_writes_nothing(client, db):
    admin = User.objects.create_superuser("root", password="x-long-password-1")
    client.force_login(admin)
    schedule = ContributionSchedule.objects.get(province_id="53", year=2023)
    url = reverse("admin:collection_contributionschedule_change", args=[schedule.pk])
    form = client.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name != "qualifying_categories"
    }
    data["province"] = "53"
    data["qualifying_categories"] = '["dibao", "tekun", "fanpin"]'
    tiers = list(schedule.tiers.all())
    data.update({
        "tiers-TOTAL_FORMS": len(tiers), "tiers-INITIAL_FORMS": len(tiers),
        "milestones-TOTAL_FORMS": 0, "milestones-INITIAL_FORMS": 0,
    })  # fmt: skip
    for i, tier in enumerate(tiers):
        subsidy = "20.00" if tier.amount == 3000 else tier.subsidy  # falls below the 2000 tier
        data.update({
            f"tiers-{i}-id": tier.pk, f"tiers-{i}-schedule": schedule.pk,
            f"tiers-{i}-amount": tier.amount, f"tiers-{i}-subsidy": subsidy,
            f"tiers-{i}-government_only": "on" if tier.government_only else "",
        })  # fmt: skip
    data = {k: v for k, v in data.items() if v != ""}
    response = client.post(url, data)
    assert response.status_code == 200
    assert "补贴不得随档次提高而降低" in response.content.decode()
    assert Tier.objects.get(schedule=schedule, amount=3000).subsidy == 60


def test_admin_change_lists_render_for_configuration(client, db):
    admin = User.objects.create_superuser("root", password="x-long-password-1")
    client.force_login(admin)
    for name in [
        "pension_region", "pension_user", "pension_auditentry", "enrollment_resident",
        "collection_payment", "collection_contributionschedule",
    ]:  # fmt: skip
        assert client.get(reverse(f"admin:{name}_changelist")).status_code == 200, name


def test_payments_are_read_only_in_the_admin(client, db):
    admin = User.objects.create_superuser("root", password="x-long-password-1")
    client.force_login(admin)
    assert client.get(reverse("admin:collection_payment_add")).status_code == 403
    # Residents are put on file by the services, which derive sex and birth date from the ID.
    assert client.get(reverse("admin:enrollment_resident_add")).status_code == 403
