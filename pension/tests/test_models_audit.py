import re
from pathlib import Path

from django.conf import settings

from pension.models import AuditEntry

APPS = ("pension", "enrollment", "collection", "reconciliation")


def audit_actions_written_by_the_code() -> set[str]:
    """Every `action="x.y"` literal in the apps' code (tests excluded)."""
    found = set()
    for app in APPS:
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            found |= set(re.findall(r'action="([a-z_]+\.[a-z_]+)"', path.read_text("utf-8")))
    return found


def test_every_audit_action_the_code_writes_has_a_chinese_label():
    actions = audit_actions_written_by_the_code()
    assert "payment.record" in actions  # the scan finds the services' actions
    assert actions - set(AuditEntry.ACTION_LABELS) == set()


def test_an_action_shows_its_label_and_an_unknown_one_its_code():
    assert AuditEntry(action="notice.generate").action_label == "生成公示"
    assert AuditEntry(action="something.new").action_label == "something.new"
