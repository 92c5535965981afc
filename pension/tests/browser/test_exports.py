"""A long list exported from its page: the worker writes it, the job page follows it without a
reload, and the file comes down when it is ready."""

from playwright.sync_api import expect

from enrollment.tests.factories import ResidentFactory
from pension.exports import export_job_run
from pension.models import ExportJob
from pension.tasks import run_export_job


def test_the_resident_list_is_exported_by_the_worker_and_fetched_when_ready(
    page, console, log_in_as, township_user, village, monkeypatch
):
    for status in ("eligible", "eligible", "enrolled"):
        ResidentFactory(village=village, status=status)
    queued: list[int] = []
    monkeypatch.setattr(run_export_job, "delay", queued.append)  # the worker is the test
    log_in_as(township_user)
    page.goto("/residents/?status=eligible")

    page.get_by_test_id("export-residents").click()

    job = ExportJob.objects.get()
    expect(page).to_have_url(f"/exports/{job.pk}/")
    expect(page.get_by_role("progressbar")).to_be_visible()
    assert queued == [job.pk] and job.params == {"status": "eligible"}
    export_job_run(job_id=job.pk)
    expect(page.get_by_test_id("export-rows")).to_have_text("2")
    with page.expect_download() as download:
        page.get_by_test_id("export-download").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    console.assert_clean()
