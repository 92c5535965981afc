"""What every command of the project shares."""

from __future__ import annotations

from django.core.management.base import BaseCommand


class TranslatedCommand(BaseCommand):
    """A command whose `help` is a lazy translation (gettext_lazy): argparse formats only
    text, so the help is translated when the parser is made, in the active language."""

    def create_parser(self, prog_name, subcommand, **kwargs):
        self.help = str(self.help)
        return super().create_parser(prog_name, subcommand, **kwargs)
