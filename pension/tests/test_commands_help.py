"""Every command of the project explains itself with --help, in Chinese and in English."""

import pytest
from django.core.management import get_commands, load_command_class
from django.utils import translation

OURS = {"pension", "enrollment", "collection", "reconciliation"}
COMMANDS = sorted((app, name) for name, app in get_commands().items() if app in OURS)


@pytest.mark.parametrize(("app", "name"), COMMANDS, ids=[name for _app, name in COMMANDS])
def test_a_commands_help_is_printed_in_the_language_of_the_moment(app, name):
    def help_in(language: str) -> tuple[str, str]:
        with translation.override(language):
            command = load_command_class(app, name)
            printed = command.create_parser("manage.py", name).format_help()
            return "".join(str(command.help).split()), "".join(printed.split())

    (chinese, printed_chinese), (english, printed_english) = help_in("zh-hans"), help_in("en")

    assert chinese and chinese in printed_chinese
    assert english and english in printed_english and english != chinese
