"""Sections that other apps add to the resident page.

Enrollment knows nothing of payments, so the collection app registers its own section here
(in its AppConfig.ready) and the resident page renders whatever is registered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ResidentPanel:
    key: str
    title: str
    template_name: str
    context: Callable[..., dict[str, Any]]  # (resident=..., user=...) -> template context
    order: int = 100


_panels: dict[str, ResidentPanel] = {}


def register_resident_panel(panel: ResidentPanel) -> None:
    _panels[panel.key] = panel


def resident_panels() -> list[ResidentPanel]:
    return sorted(_panels.values(), key=lambda panel: panel.order)
