"""What every URL of the site and the API answers to each role: the table that the permission
walk (test_permission_walk.py) checks the project against.

One row per URL name. A row says how to fill the URL's arguments from the small world the walk
builds (objects in 糯良村 of 糯良乡, 沧源县: the township under test), what a GET answers to
each role, and, for a URL that writes, what a POST answers to each role that must not write,
with a payload that does write for a role that may (`writer`), so that "nothing was written"
is a check that can fail.

The roles (DESIGN.md §1 and the region scope of §4):

- county: the county bureau of 沧源县 (县人社局/社保中心), a staff account of the admin site
- township: the social-security office of 糯良乡 (乡镇社保所)
- agent: the village agent of 糯良村 (村协办员)
- tax: the county's tax bureau: its account signed in, and its API key on API calls
- auditor: the county's read-only auditor (审计监督)
- stranger: nobody signed in and no key
- neighbour: the office of 勐来乡, another township of the same county
- outsider: the county bureau of 临夏市 in another province, with that county's API key
- unassigned: a village agent of 糯良乡 who has not been given a village yet

Answers: a status code, or LOGIN for a redirect to the login page (`/login/?next=...`). A
plain 302 is a redirect anywhere else (a signed-in user sent on to their own page).

Where the project answers something else than DESIGN.md asks for, the row keeps the right
answer and names today's answer in `wrong`; the walk expects those cases to fail until the
code is fixed, and fails as soon as one passes, so that the mark is removed with the fix.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

LOGIN = "login"

ROLES = (
    "county", "township", "agent", "tax", "auditor", "stranger", "neighbour", "outsider",
    "unassigned",
)  # fmt: skip

# The roles whose region holds 糯良村: they see its resident on lists, details and exports.
SEES_THE_VILLAGE = frozenset({"county", "township", "agent", "tax", "auditor"})

# The voucher of the payment the tax bureau synced in the world (the reversal endpoint's).
VOUCHER = "332023000000009001"


@dataclass(frozen=True)
class Expect:
    """The answer of one URL to each role."""

    county: int | str
    township: int | str
    agent: int | str
    tax: int | str
    auditor: int | str
    stranger: int | str
    neighbour: int | str
    outsider: int | str
    unassigned: int | str

    def of(self, role: str) -> int | str:
        return getattr(self, role)


@dataclass(frozen=True)
class Wrong:
    """Today's answer where it is not the right one, and the rule it breaks."""

    actual: str
    reason: str


@dataclass(frozen=True)
class PostCheck:
    """A POST that writes: the answer to each role that must not write, and the role whose same
    POST writes (None where no single request of the walk can)."""

    expect: dict[str, int | str]
    writer: str | None
    data: Callable[[Any], dict] = lambda world: {}
    json: bool = False
    # Run before the POST: puts the object in the state where the POST would act on it.
    prepare: Callable[[Any], None] | None = None
    wrong: dict[str, Wrong] = field(default_factory=dict)

    def body(self, world) -> dict:
        payload = self.data(world)
        if self.json:
            return {"data": json.dumps(payload), "content_type": "application/json"}
        return {"data": payload}


@dataclass(frozen=True)
class Row:
    get: Expect
    kwargs: Callable[[Any], dict] = lambda world: {}
    query: Callable[[Any], str] = lambda world: ""
    path: str = ""  # for a pattern that cannot be reversed (the API's catch-all)
    # The answer names 糯良村's resident (by full ID number) to those who see the village, and
    # to nobody else.
    shows_resident: bool = False
    # Settings the request runs under, where the answer would otherwise depend on the machine.
    settings: dict[str, Any] = field(default_factory=dict)
    wrong: dict[str, Wrong] = field(default_factory=dict)
    post: PostCheck | None = None


def tax_record(resident, voucher_no: str) -> dict:
    """One collection record as the tax bureau's system sends it: a 300-yuan 2023 payment."""
    return {
        "voucher_no": voucher_no, "id_number": resident.id_number, "name": resident.name,
        "contribution_year": 2023, "tier": "300.00", "amount": "300.00", "kind": "normal",
        "paid_on": "2023-06-20", "channel": "wechat", "tax_office": "15309270000",
    }  # fmt: skip


def upload(name: str = "名单.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, "公民身份号码,姓名\n".encode(), content_type="text/csv")


def count_progress(world) -> None:
    """The progress count a bulletin reads, as the nightly task takes it."""
    import datetime

    from collection.services.progress import progress_rebuild

    progress_rebuild(county=world.county, year=2023, day=datetime.date(2023, 6, 20))


def approve_batch(world) -> None:
    from collection.models import ProxyBatch
    from collection.services.proxy import proxy_batch_approve

    # A fresh copy: the service sets the status on the object it is given.
    batch = ProxyBatch.objects.get(pk=world.batch.pk)
    proxy_batch_approve(batch=batch, actor=world.users["county"])


# Refused by role before anything else (ManageResidentsRequiredMixin).
MANAGERS_ONLY = {"agent": 403, "tax": 403, "auditor": 403, "stranger": LOGIN, "unassigned": 403}
# The sync API takes API keys only: a signed-in session is no credential there.
KEY_ONLY = {
    "county": 401, "township": 401, "agent": 401, "auditor": 401, "stranger": 401,
    "neighbour": 401, "unassigned": 401,
}  # fmt: skip


# fmt: off
TABLE: dict[str, Row] = {
    # --- enrollment ------------------------------------------------------------------------------
    "enrollment:home": Row(
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=200, outsider=200, unassigned=200),
    ),
    "enrollment:resident_list": Row(
        shows_resident=True,
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=200, outsider=200, unassigned=200),
    ),
    "enrollment:resident_detail": Row(
        kwargs=lambda w: {"id_number": w.resident.id_number}, shows_resident=True,
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=404, outsider=404, unassigned=404),
    ),
    # The three resident actions are POST only: a GET that passes the role check is a 405.
    "enrollment:resident_seal": Row(
        kwargs=lambda w: {"id_number": w.resident.id_number},
        get=Expect(county=405, township=405, agent=403, tax=403, auditor=403, stranger=LOGIN,
                   neighbour=405, outsider=405, unassigned=403),
        post=PostCheck(
            writer="township", data=lambda w: {"reason": "lost_contact", "note": "失联"},
            expect={**MANAGERS_ONLY, "neighbour": 404, "outsider": 404},
        ),
    ),
    "enrollment:resident_unseal": Row(
        kwargs=lambda w: {"id_number": w.sealed.id_number},
        get=Expect(county=405, township=405, agent=403, tax=403, auditor=403, stranger=LOGIN,
                   neighbour=405, outsider=405, unassigned=403),
        post=PostCheck(
            writer="township", data=lambda w: {"note": "已联系上"},
            expect={**MANAGERS_ONLY, "neighbour": 404, "outsider": 404},
        ),
    ),
    "enrollment:resident_cancel": Row(
        kwargs=lambda w: {"id_number": w.deceased.id_number},
        get=Expect(county=405, township=405, agent=403, tax=403, auditor=403, stranger=LOGIN,
                   neighbour=405, outsider=405, unassigned=403),
        post=PostCheck(
            writer="township", data=lambda w: {"note": "死亡注销"},
            expect={**MANAGERS_ONLY, "neighbour": 404, "outsider": 404},
        ),
    ),
    # Another township's or county's staff may upload for their own region: 糯良乡 is not among
    # the form's choices, so the form comes back with its error and nothing is queued.
    "enrollment:upload_registry": Row(
        get=Expect(county=200, township=200, agent=403, tax=403, auditor=403, stranger=LOGIN,
                   neighbour=200, outsider=200, unassigned=403),
        post=PostCheck(
            writer="township",
            data=lambda w: {"region": w.township.code, "as_of": "2023-06-01", "file": upload()},
            expect={**MANAGERS_ONLY, "neighbour": 200, "outsider": 200},
        ),
    ),
    "enrollment:upload_department": Row(
        get=Expect(county=200, township=200, agent=403, tax=403, auditor=403, stranger=LOGIN,
                   neighbour=200, outsider=200, unassigned=403),
        post=PostCheck(
            writer="township",
            data=lambda w: {"region": w.township.code, "category": "dibao",
                            "list_date": "2023-06-01", "file": upload()},
            expect={**MANAGERS_ONLY, "neighbour": 200, "outsider": 200},
        ),
    ),
    "enrollment:finding_list": Row(
        shows_resident=True,
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=200, outsider=200, unassigned=200),
    ),
    # The findings to close are in the body: one outside the region is an invalid choice, and
    # the worklist comes back with the form's error.
    "enrollment:finding_resolve": Row(
        get=Expect(county=405, township=405, agent=403, tax=403, auditor=403, stranger=LOGIN,
                   neighbour=405, outsider=405, unassigned=403),
        post=PostCheck(
            writer="township", data=lambda w: {"ids": [w.finding.pk], "note": "已入户核实"},
            expect={**MANAGERS_ONLY, "neighbour": 302, "outsider": 302},
        ),
    ),
    "enrollment:finding_export": Row(
        shows_resident=True,
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=200, outsider=200, unassigned=200),
    ),
    "enrollment:benefits_due": Row(
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=200, outsider=200, unassigned=200),
    ),
    # --- collection ------------------------------------------------------------------------------
    "collection:ledger_form": Row(
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=200, outsider=200, unassigned=200),
    ),
    "collection:ledger_download": Row(
        kwargs=lambda w: {"region_code": w.village.code, "year": 2023}, shows_resident=True,
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=404, outsider=404, unassigned=404),
    ),
    "collection:payment_list": Row(
        shows_resident=True,
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=200, outsider=200, unassigned=200),
    ),
    "collection:unpaid": Row(
        kwargs=lambda w: {"region_code": w.village.code},
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=404, outsider=404, unassigned=404),
    ),
    "collection:unpaid_export": Row(
        kwargs=lambda w: {"region_code": w.village.code},
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=404, outsider=404, unassigned=404),
    ),
    "collection:counter": Row(
        get=Expect(county=200, township=200, agent=403, tax=403, auditor=403, stranger=LOGIN,
                   neighbour=200, outsider=200, unassigned=403),
        post=PostCheck(
            writer="township",
            data=lambda w: {"resident": w.unpaid.pk, "year": "2023", "amount": "300.00",
                            "kind": "personal", "channel": "township_office",
                            "voucher_no": "WALK-COUNTER-1"},
            expect={**MANAGERS_ONLY, "neighbour": 404, "outsider": 404},
        ),
    ),
    "collection:receipt": Row(
        kwargs=lambda w: {"pk": w.payment.pk},
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=404, outsider=404, unassigned=404),
    ),
    # The entry sends a user on to their county's or township's page; an agent has neither and
    # stays on an empty page.
    "collection:progress_home": Row(
        get=Expect(county=302, township=302, agent=200, tax=302, auditor=302, stranger=LOGIN,
                   neighbour=302, outsider=302, unassigned=200),
    ),
    "collection:progress": Row(
        kwargs=lambda w: {"region_code": w.township.code},
        get=Expect(county=200, township=200, agent=404, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=404, outsider=404, unassigned=404),
    ),
    # POST only, the county's own button: other readers of the county are told why on the
    # progress page (302); a user who does not see the county gets 404.
    "collection:progress_recount": Row(
        kwargs=lambda w: {"region_code": w.county.code},
        get=Expect(county=405, township=405, agent=405, tax=405, auditor=405, stranger=LOGIN,
                   neighbour=405, outsider=405, unassigned=405),
        post=PostCheck(
            writer="county", data=lambda w: {"year": "2023"},
            expect={"township": 404, "agent": 404, "tax": 302, "auditor": 302,
                    "stranger": LOGIN, "neighbour": 404, "outsider": 404, "unassigned": 404},
        ),
    ),
    "collection:progress_sheet": Row(
        kwargs=lambda w: {"region_code": w.township.code},
        get=Expect(county=200, township=200, agent=404, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=404, outsider=404, unassigned=404),
    ),
    # The joint inspections' worksheet: county, tax and auditors, and the township itself; the
    # village agent is the one inspected and is refused by role before the region is read.
    "collection:inspection_sheet": Row(
        kwargs=lambda w: {"region_code": w.township.code},
        get=Expect(county=200, township=200, agent=403, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=404, outsider=404, unassigned=403),
    ),
    # Readers of the township see its targets; a save by one of them comes back refused.
    "collection:targets": Row(
        kwargs=lambda w: {"region_code": w.township.code},
        get=Expect(county=200, township=200, agent=404, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=404, outsider=404, unassigned=404),
        post=PostCheck(
            writer="township", data=lambda w: {"year": "2023", f"target-{w.village.code}": "120"},
            expect={"agent": 404, "tax": 200, "auditor": 200, "stranger": LOGIN,
                    "neighbour": 404, "outsider": 404, "unassigned": 404},
        ),
    ),
    "collection:targets_sheet": Row(
        kwargs=lambda w: {"region_code": w.township.code},
        get=Expect(county=200, township=200, agent=404, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=404, outsider=404, unassigned=404),
    ),
    # Proxy batches are the county's: township staff and agents have an empty list and no batch.
    "collection:proxy_batch_list": Row(
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=200, outsider=200, unassigned=200),
    ),
    "collection:proxy_batch_detail": Row(
        kwargs=lambda w: {"pk": w.batch.pk},
        get=Expect(county=200, township=404, agent=404, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=404, outsider=404, unassigned=404),
    ),
    "collection:proxy_generate": Row(
        get=Expect(county=405, township=405, agent=405, tax=405, auditor=405, stranger=LOGIN,
                   neighbour=405, outsider=405, unassigned=405),
        post=PostCheck(
            writer="county", data=lambda w: {"county": w.county.code, "year": "2023"},
            expect={"township": 404, "agent": 404, "tax": 302, "auditor": 302,
                    "stranger": LOGIN, "neighbour": 404, "outsider": 404, "unassigned": 404},
        ),
    ),
    "collection:proxy_generation_detail": Row(
        kwargs=lambda w: {"pk": w.generation.pk},
        get=Expect(county=200, township=404, agent=404, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=404, outsider=404, unassigned=404),
    ),
    "collection:proxy_batch_approve": Row(
        kwargs=lambda w: {"pk": w.batch.pk},
        get=Expect(county=405, township=405, agent=405, tax=405, auditor=405, stranger=LOGIN,
                   neighbour=405, outsider=405, unassigned=405),
        post=PostCheck(
            writer="county",
            expect={"township": 404, "agent": 404, "tax": 302, "auditor": 302,
                    "stranger": LOGIN, "neighbour": 404, "outsider": 404, "unassigned": 404},
        ),
    ),
    "collection:proxy_batch_post": Row(
        kwargs=lambda w: {"pk": w.batch.pk},
        get=Expect(county=405, township=405, agent=405, tax=405, auditor=405, stranger=LOGIN,
                   neighbour=405, outsider=405, unassigned=405),
        post=PostCheck(
            writer="county", prepare=approve_batch,
            expect={"township": 404, "agent": 404, "tax": 302, "auditor": 302,
                    "stranger": LOGIN, "neighbour": 404, "outsider": 404, "unassigned": 404},
        ),
    ),
    "collection:proxy_receipts": Row(
        kwargs=lambda w: {"pk": w.batch.pk},
        get=Expect(county=200, township=404, agent=404, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=404, outsider=404, unassigned=404),
    ),
    # Bulletins are the county's: made by its bureau (the Monday task or the page), read by its
    # tax bureau and auditors; township staff and agents have an empty list and no bulletin.
    "collection:bulletin_list": Row(
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=200, outsider=200, unassigned=200),
    ),
    "collection:bulletin_publish": Row(
        get=Expect(county=405, township=405, agent=405, tax=405, auditor=405, stranger=LOGIN,
                   neighbour=405, outsider=405, unassigned=405),
        post=PostCheck(
            writer="county",
            prepare=count_progress,
            data=lambda w: {"county": w.county.code, "day": "2023-06-20"},
            expect={"township": 404, "agent": 404, "tax": 302, "auditor": 302,
                    "stranger": LOGIN, "neighbour": 404, "outsider": 404, "unassigned": 404},
        ),
    ),
    "collection:bulletin_detail": Row(
        kwargs=lambda w: {"pk": w.bulletin.pk},
        get=Expect(county=200, township=404, agent=404, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=404, outsider=404, unassigned=404),
    ),
    "collection:bulletin_download": Row(
        kwargs=lambda w: {"pk": w.bulletin.pk},
        get=Expect(county=200, township=404, agent=404, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=404, outsider=404, unassigned=404),
    ),
    # Revisit samples are the county's: drawn by its bureau and its tax bureau, read by its
    # auditors; township staff and agents have an empty list and no sample.
    "collection:revisit_list": Row(
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=200, outsider=200, unassigned=200),
    ),
    "collection:revisit_draw": Row(
        get=Expect(county=405, township=405, agent=405, tax=405, auditor=405, stranger=LOGIN,
                   neighbour=405, outsider=405, unassigned=405),
        post=PostCheck(
            writer="county",
            data=lambda w: {"county": w.county.code, "start": "2023-06-01",
                            "end": "2023-06-30", "townships": "3", "payers": "6"},
            expect={"township": 404, "agent": 404, "auditor": 302, "stranger": LOGIN,
                    "neighbour": 404, "outsider": 404, "unassigned": 404},
        ),
    ),
    "collection:revisit_detail": Row(
        kwargs=lambda w: {"pk": w.revisit.pk},
        get=Expect(county=200, township=404, agent=404, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=404, outsider=404, unassigned=404),
    ),
    "collection:revisit_sheet": Row(
        kwargs=lambda w: {"pk": w.revisit.pk},
        get=Expect(county=200, township=404, agent=404, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=404, outsider=404, unassigned=404),
    ),
    "collection:revisit_record": Row(
        kwargs=lambda w: {"pk": w.revisit.items.get().pk},
        get=Expect(county=405, township=405, agent=405, tax=405, auditor=405, stranger=LOGIN,
                   neighbour=405, outsider=405, unassigned=405),
        post=PostCheck(
            writer="county", data=lambda w: {"outcome": "confirmed"},
            expect={"township": 404, "agent": 404, "auditor": 302, "stranger": LOGIN,
                    "neighbour": 404, "outsider": 404, "unassigned": 404},
        ),
    ),
    # An agent is sent on to their own page.
    "collection:agent_list": Row(
        get=Expect(county=200, township=200, agent=302, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=200, outsider=200, unassigned=302),
    ),
    # Receipts and remittances are the agent's own declaration: staff only look.
    "collection:agent_detail": Row(
        kwargs=lambda w: {"pk": w.agent.pk},
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=404, outsider=404, unassigned=404),
        post=PostCheck(
            writer="agent",
            data=lambda w: {"action": "receipt", "id_number": w.unpaid.id_number,
                            "contribution_year": "2023", "amount": "300",
                            "collected_on": "2023-06-24", "receipt_no": "SJ-WALK-1"},
            expect={"county": 403, "township": 403, "tax": 403, "auditor": 403,
                    "stranger": LOGIN, "neighbour": 404, "outsider": 404, "unassigned": 404},
        ),
    ),
    "collection:agent_register": Row(
        kwargs=lambda w: {"region_code": w.village.code},
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=404, outsider=404, unassigned=404),
    ),
    "collection:notice_status": Row(
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=200, outsider=200, unassigned=200),
    ),
    "collection:notice_generate": Row(
        kwargs=lambda w: {"region_code": w.village.code, "kind": "monthly", "period": "2023-05"},
        get=Expect(county=405, township=405, agent=405, tax=405, auditor=405, stranger=LOGIN,
                   neighbour=405, outsider=405, unassigned=405),
        post=PostCheck(
            writer="township",
            expect={"tax": 403, "auditor": 403, "stranger": LOGIN, "neighbour": 404,
                    "outsider": 404, "unassigned": 404},
        ),
    ),
    "collection:notice_download": Row(
        kwargs=lambda w: {"group_code": w.group.code, "kind": "monthly", "period": "2023-05"},
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=404, outsider=404, unassigned=404),
    ),
    "collection:notice_print": Row(
        kwargs=lambda w: {"group_code": w.group.code, "kind": "monthly", "period": "2023-05"},
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=404, outsider=404, unassigned=404),
    ),
    # --- reconciliation --------------------------------------------------------------------------
    # Everyone working in the county opens its month: the table holds the townships they see,
    # and an agent may look at their villages' cases (reconciliation.services.resolutions).
    "reconciliation:month": Row(
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=200, outsider=200, unassigned=200),
    ),
    # POST only; anyone in the county but the county bureau is told why on the month page.
    "reconciliation:run": Row(
        get=Expect(county=405, township=405, agent=405, tax=405, auditor=405, stranger=LOGIN,
                   neighbour=405, outsider=405, unassigned=405),
        post=PostCheck(
            writer="county", data=lambda w: {"county": w.county.code, "month": "2023-05"},
            expect={"township": 302, "agent": 302, "tax": 302, "auditor": 302,
                    "stranger": LOGIN, "neighbour": 302, "outsider": 404, "unassigned": 404},
        ),
    ),
    "reconciliation:run_detail": Row(
        kwargs=lambda w: {"pk": w.run.pk},
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=200, outsider=404, unassigned=404),
    ),
    # Only the county bureau imports statements; the page is not there for anyone else (404).
    # 临夏市's bureau imports for its own county: 沧源县 is not among the form's choices.
    "reconciliation:statement_upload": Row(
        get=Expect(county=200, township=404, agent=404, tax=404, auditor=404, stranger=LOGIN,
                   neighbour=404, outsider=200, unassigned=404),
        post=PostCheck(
            writer="county",
            data=lambda w: {"source": "tax", "county": w.county.code, "month": "2023-05",
                            "file": upload("税务征收明细.csv")},
            expect={"township": 404, "agent": 404, "tax": 404, "auditor": 404,
                    "stranger": LOGIN, "neighbour": 404, "outsider": 200, "unassigned": 404},
        ),
    ),
    "reconciliation:month_sheet": Row(
        kwargs=lambda w: {"county_code": w.county.code, "month": "2023-05"},
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=200, outsider=404, unassigned=404),
    ),
    "reconciliation:discrepancy_list": Row(
        shows_resident=True,
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=200, outsider=200, unassigned=200),
    ),
    "reconciliation:discrepancy_export": Row(
        shows_resident=True,
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=200, outsider=200, unassigned=200),
    ),
    "reconciliation:discrepancy_detail": Row(
        kwargs=lambda w: {"pk": w.discrepancy.pk}, shows_resident=True,
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=404, outsider=404, unassigned=404),
    ),
    "reconciliation:discrepancy_resolve": Row(
        kwargs=lambda w: {"pk": w.discrepancy.pk},
        get=Expect(county=405, township=405, agent=403, tax=403, auditor=403, stranger=LOGIN,
                   neighbour=405, outsider=405, unassigned=403),
        post=PostCheck(
            writer="township", data=lambda w: {"resolution": "accepted", "note": "已核实"},
            expect={**MANAGERS_ONLY, "neighbour": 404, "outsider": 404},
        ),
    ),
    # --- the staff API: the site's lists as JSON, for a signed-in session ------------------------
    # Without a session DRF answers 403, not 401: session authentication names no scheme for
    # a WWW-Authenticate header.
    "api_staff_residents": Row(
        shows_resident=True,
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=403,
                   neighbour=200, outsider=200, unassigned=200),
    ),
    "api_staff_findings": Row(
        shows_resident=True,
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=403,
                   neighbour=200, outsider=200, unassigned=200),
    ),
    "api_staff_payments": Row(
        shows_resident=True,
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=403,
                   neighbour=200, outsider=200, unassigned=200),
    ),
    "api_staff_discrepancies": Row(
        shows_resident=True,
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=403,
                   neighbour=200, outsider=200, unassigned=200),
    ),
    # --- the tax bureau's sync API: API keys only, 401 without one --------------------------------
    # The outsider's key is 临夏市's: 沧源县's residents, payments and payables are not found, and
    # Yunnan's schedule is not its province's. A record it sends of a 沧源 resident is held in
    # 临夏市 as "not on the roll" (reconciliation.services.sync), so its POST is not walked.
    "api:payments_batch": Row(
        get=Expect(county=401, township=401, agent=401, tax=405, auditor=401, stranger=401,
                   neighbour=401, outsider=405, unassigned=401),
        post=PostCheck(
            writer="tax", json=True,
            data=lambda w: {"records": [tax_record(w.unpaid, "332023000000009101")]},
            expect=KEY_ONLY,
        ),
    ),
    "api:payments_reversal": Row(
        kwargs=lambda w: {"voucher": VOUCHER},
        get=Expect(county=401, township=401, agent=401, tax=405, auditor=401, stranger=401,
                   neighbour=401, outsider=405, unassigned=401),
        post=PostCheck(
            writer="tax", json=True,
            data=lambda w: {"reversal_voucher_no": "332023000000009002", "kind": "refund",
                            "reason": "重复缴费"},
            expect={**KEY_ONLY, "outsider": 404},
        ),
    ),
    "api:resident": Row(
        kwargs=lambda w: {"id_number": w.resident.id_number}, shows_resident=True,
        get=Expect(county=401, township=401, agent=401, tax=200, auditor=401, stranger=401,
                   neighbour=401, outsider=404, unassigned=401),
    ),
    "api:payables": Row(
        query=lambda w: f"county={w.county.code}&year=2023", shows_resident=True,
        get=Expect(county=401, township=401, agent=401, tax=200, auditor=401, stranger=401,
                   neighbour=401, outsider=404, unassigned=401),
    ),
    "api:schedule": Row(
        kwargs=lambda w: {"province": "53", "year": 2023},
        get=Expect(county=401, township=401, agent=401, tax=200, auditor=401, stranger=401,
                   neighbour=401, outsider=404, unassigned=401),
    ),
    # The schema and its docs page are public on purpose (SPECTACULAR_SETTINGS): they describe
    # the endpoints, which need a key.
    "api:schema": Row(
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=200,
                   neighbour=200, outsider=200, unassigned=200),
    ),
    "api:docs": Row(
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=200,
                   neighbour=200, outsider=200, unassigned=200),
    ),
    # Every other address under /api/: the API's JSON 404, to everyone.
    "api:unknown": Row(
        path="/api/v1/no-such-endpoint",
        get=Expect(county=404, township=404, agent=404, tax=404, auditor=404, stranger=404,
                   neighbour=404, outsider=404, unassigned=404),
    ),
    # --- the kernel ------------------------------------------------------------------------------
    # The entry sends a user on to their county's or township's dashboard; an agent has neither.
    "dashboard_home": Row(
        get=Expect(county=302, township=302, agent=200, tax=302, auditor=302, stranger=LOGIN,
                   neighbour=302, outsider=302, unassigned=200),
    ),
    "dashboard": Row(
        kwargs=lambda w: {"region_code": w.township.code},
        get=Expect(county=200, township=200, agent=404, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=404, outsider=404, unassigned=404),
    ),
    "export_create": Row(
        get=Expect(county=405, township=405, agent=405, tax=405, auditor=405, stranger=LOGIN,
                   neighbour=405, outsider=405, unassigned=405),
        post=PostCheck(
            writer="township", data=lambda w: {"kind": "residents", "query": ""},
            expect={"stranger": LOGIN},
        ),
    ),
    # An export holds what its requester's region let them see: only they fetch it, not even
    # their county (pension.models.ExportJobQuerySet).
    "export_job": Row(
        kwargs=lambda w: {"pk": w.export_job.pk},
        get=Expect(county=404, township=200, agent=404, tax=404, auditor=404, stranger=LOGIN,
                   neighbour=404, outsider=404, unassigned=404),
    ),
    "export_download": Row(
        kwargs=lambda w: {"pk": w.export_job.pk},
        get=Expect(county=404, township=200, agent=404, tax=404, auditor=404, stranger=LOGIN,
                   neighbour=404, outsider=404, unassigned=404),
    ),
    # A comparison of the whole township: not any one village's agent's.
    "import_job": Row(
        kwargs=lambda w: {"pk": w.import_job.pk},
        get=Expect(county=200, township=200, agent=404, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=404, outsider=404, unassigned=404),
    ),
    "import_job_rejections": Row(
        kwargs=lambda w: {"pk": w.import_job.pk},
        get=Expect(county=200, township=200, agent=404, tax=200, auditor=200, stranger=LOGIN,
                   neighbour=404, outsider=404, unassigned=404),
    ),
    # Public by nature; a signed-in user is sent on to the home page. Logging in and out and
    # choosing a language write nothing of the project's, so their POSTs are not walked.
    "login": Row(
        get=Expect(county=302, township=302, agent=302, tax=302, auditor=302, stranger=200,
                   neighbour=302, outsider=302, unassigned=302),
    ),
    "logout": Row(
        get=Expect(county=405, township=405, agent=405, tax=405, auditor=405, stranger=405,
                   neighbour=405, outsider=405, unassigned=405),
    ),
    "set_language": Row(
        get=Expect(county=302, township=302, agent=302, tax=302, auditor=302, stranger=302,
                   neighbour=302, outsider=302, unassigned=302),
    ),
    # The monitor's check needs no login and shows no personal data. With in-process tasks it
    # checks the database and the cache only, so its answer does not hang on a worker being up.
    "health": Row(
        settings={"CELERY_BROKER_URL": "memory://"},
        get=Expect(county=200, township=200, agent=200, tax=200, auditor=200, stranger=200,
                   neighbour=200, outsider=200, unassigned=200),
    ),
}
# fmt: on
