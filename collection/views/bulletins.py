"""Weekly bulletins (每周进展通报): the kept bulletins of the counties a user sees, the form to
make one for any day, the printable bulletin and its workbook. Thin: the figures and the rules
live in collection.services.bulletins."""

from __future__ import annotations

import datetime
import io

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, ListView

from collection.exporters.bulletins import bulletin_title, write_bulletin_workbook
from collection.models import Bulletin
from collection.services.bulletins import (
    COMMEND_RATE,
    BulletinRefused,
    bulletin_default_period,
    bulletin_figures,
    bulletin_publish,
    bulletin_refusal,
)
from collection.services.schedules import schedule_years
from pension.http import XLSX, attachment
from pension.views import CountyScopedMixin


class BulletinMixin(CountyScopedMixin):
    """Bulletins of the counties the user sees: the county bureau, the tax bureau and auditors
    of the county; township staff and agents see none (a bulletin names every township)."""

    model = Bulletin

    def get_queryset(self):
        return Bulletin.objects.filter(county__in=self.counties()).select_related(
            "county", "created_by"
        )


class BulletinListView(BulletinMixin, ListView):
    template_name = "collection/bulletins/bulletin_list.html"
    context_object_name = "bulletins"
    paginate_by = 20

    def get_context_data(self, **kwargs):
        today = timezone.localdate()
        publishers = []
        for county in self.counties().order_by("code"):
            if bulletin_refusal(actor=self.request.user, county=county):
                continue
            year, day = bulletin_default_period(county=county, today=today)
            publishers.append(
                {"county": county, "years": schedule_years(province_code=county.code[:2]),
                 "year": year, "day": day}
            )  # fmt: skip
        return super().get_context_data(publishers=publishers, **kwargs)


class BulletinPublishView(BulletinMixin, View):
    """生成通报: a county outside the user's answers 404; a refusal is told on the list with
    nothing written; a day that has its bulletin opens the one on file."""

    http_method_names = ["post"]

    def post(self, request):
        county = get_object_or_404(self.counties(), code=request.POST.get("county", "").strip())
        try:
            day = datetime.date.fromisoformat(request.POST.get("day", "").strip())
        except ValueError:
            messages.error(request, _("请填写通报统计截止日期（年-月-日）"))
            return HttpResponseRedirect(reverse("collection:bulletin_list"))
        year = request.POST.get("year", "").strip()
        try:
            bulletin, created = bulletin_publish(
                county=county, day=day, actor=request.user,
                year=int(year) if year.isdigit() else None,
            )  # fmt: skip
        except BulletinRefused as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(reverse("collection:bulletin_list"))
        if not created:
            messages.info(request, _("该日的进展通报已生成，打开的是存档的通报。"))
        return HttpResponseRedirect(reverse("collection:bulletin_detail", args=[bulletin.pk]))


class BulletinDetailView(BulletinMixin, DetailView):
    """The bulletin as it was kept, laid out to print as a government bulletin."""

    template_name = "collection/bulletins/bulletin_detail.html"
    context_object_name = "bulletin"

    def get_context_data(self, **kwargs):
        figures = bulletin_figures(self.object)
        return super().get_context_data(
            figures=figures, title=bulletin_title(figures), commend_rate=COMMEND_RATE, **kwargs
        )


class BulletinDownloadView(BulletinMixin, View):
    """The bulletin's workbook, from the same kept figures as the page."""

    def get(self, request, pk: int):
        bulletin = get_object_or_404(self.get_queryset(), pk=pk)
        figures = bulletin_figures(bulletin)
        out = io.BytesIO()  # a county's townships and villages: a few hundred rows
        write_bulletin_workbook(figures=figures, out=out)
        response = HttpResponse(out.getvalue(), content_type=XLSX)
        response["Content-Disposition"] = attachment(f"{bulletin_title(figures)}.xlsx")
        return response
