"""代办情况登记表: one row per village agent with their villages, commitment and cash.

``agent_register_rows`` yields plain Python values and is the single source of the sheet's
content; ``agent_register_workbook`` only renders them.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import Decimal
from typing import NamedTuple

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from collection.services.agents import agent_register_agents
from pension.exporters import write_workbook
from pension.models import User

AGENT_REGISTER_HEADER = (
    "序号",
    "协办员",
    "账号",
    "负责的村",
    "承诺书签订日期",
    "代收金额(元)",
    "已缴销(元)",
    "未缴销(元)",
)


class AgentRegisterRow(NamedTuple):
    number: int
    name: str
    username: str
    villages: str
    commitment_signed_on: datetime.date | None
    collected: Decimal
    remitted: Decimal
    outstanding: Decimal


def agent_register_rows(*, agents: QuerySet[User]) -> Iterator[AgentRegisterRow]:
    """Two queries whatever the number of agents: the agents with their sums, their villages."""
    for number, agent in enumerate(agent_register_agents(agents=agents), 1):
        try:
            signed_on = agent.agent_profile.commitment_signed_on
        except ObjectDoesNotExist:
            signed_on = None
        yield AgentRegisterRow(
            number=number,
            name=agent.display_name,
            username=agent.username,
            villages=pgettext("list separator", "、").join(
                village.name for village in agent.villages.all()
            ),
            commitment_signed_on=signed_on,
            collected=agent.collected,
            remitted=agent.remitted,
            outstanding=agent.collected - agent.remitted,
        )


def agent_register_workbook(*, agents: QuerySet[User], title: str) -> bytes:
    return write_workbook(
        title=title,
        header=AGENT_REGISTER_HEADER,
        rows=agent_register_rows(agents=agents),
        sheet=_("代办情况登记表"),
    )
