"""Celery tasks of the campaign: thin, idempotent wrappers around the services, safe to run
twice. Their periodic entries are in the admin (django-celery-beat)."""

from __future__ import annotations

from celery import shared_task

# proxy batches


@shared_task
def generate_proxy_batches(year: int | None = None) -> int:
    """Monthly (动态清零): batch every county's newly qualifying residents; returns those added.

    Idempotent: a county whose qualifying residents are all paid or batched adds nobody.
    """
    from django.db.models import Exists, OuterRef
    from django.utils import timezone

    from collection.services.proxy import ProxyBatchRefused, proxy_batch_generate
    from enrollment.models import Resident
    from pension.models import Region

    year = year or timezone.localdate().year
    has_residents = Exists(Resident.objects.filter(village__code__startswith=OuterRef("code")))
    added = 0
    for county in Region.objects.filter(has_residents, level=Region.Level.COUNTY):
        try:
            added += proxy_batch_generate(county=county, year=year, actor=None).added
        except ProxyBatchRefused:
            continue  # no schedule for this province and year yet
    return added


@shared_task
def generate_proxy_batch(generation_id: int) -> str:
    """A generation asked for from the batch list; a retry once it has started does nothing."""
    from collection.services.proxy import proxy_generation_run

    generation = proxy_generation_run(generation_id=generation_id)
    return generation.status if generation else "skipped"


# progress snapshots


@shared_task
def snapshot_progress(year: int | None = None) -> int:
    """Nightly: today's progress row for every village of every county with residents;
    returns the rows written. A second run the same day rewrites the same rows."""
    from django.db.models import Exists, OuterRef
    from django.utils import timezone

    from collection.services.progress import progress_rebuild
    from enrollment.models import Resident
    from pension.models import Region

    today = timezone.localdate()
    year = year or today.year
    has_residents = Exists(Resident.objects.filter(village__code__startswith=OuterRef("code")))
    return sum(
        progress_rebuild(county=county, year=year, day=today)
        for county in Region.objects.filter(has_residents, level=Region.Level.COUNTY)
    )


# cash limits (双限)


@shared_task
def check_cash_limits() -> int:
    """Daily: record today's 双限 breaches; a second run the same day records nothing new."""
    from django.utils import timezone

    from collection.services.agents import cash_limits_check

    return len(cash_limits_check(day=timezone.localdate()))


# notice due dates


@shared_task
def schedule_notices() -> int:
    """Daily: every county's villager groups get the notices now due; safe to run twice."""
    from django.utils import timezone

    from collection.services.notices import notices_schedule
    from pension.models import Region

    today = timezone.localdate()
    return sum(
        notices_schedule(region=county, day=today)
        for county in Region.objects.filter(level=Region.Level.COUNTY)
    )


# weekly bulletins


@shared_task
def publish_weekly_bulletins() -> int:
    """Mondays: every county's bulletin of the week to Sunday; a second run makes none."""
    from django.utils import timezone

    from collection.services.bulletins import bulletins_publish_weekly

    return bulletins_publish_weekly(today=timezone.localdate())


@shared_task
def post_proxy_batch(batch_id: int) -> str:
    """A batch the page marked 入账中: post it; a retry once it is posted does nothing."""
    from collection.services.proxy import proxy_batch_post_queued

    return proxy_batch_post_queued(batch_id=batch_id)
