import json

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pension.management.base import TranslatedCommand
from reconciliation.models import ApiKey
from reconciliation.services.keys import ApiKeyRefused, api_key_revoke


class Command(TranslatedCommand):
    help = gettext_lazy("吊销一个接口密钥：此后用它的请求一律答复 401。")

    def add_arguments(self, parser):
        parser.add_argument("prefix", help=_("密钥前缀（rpk_ 之后的 8 位），见管理后台的密钥列表"))
        parser.add_argument("--json", action="store_true", dest="as_json", help=_("以 JSON 输出"))

    def handle(self, *args, prefix: str, as_json: bool, **options):
        key = ApiKey.objects.select_related("county").filter(prefix=prefix.strip()).first()
        if key is None:
            raise CommandError(_("没有前缀为 %(prefix)s 的密钥") % {"prefix": prefix})
        try:
            api_key_revoke(key=key)
        except ApiKeyRefused as exc:
            raise CommandError(str(exc)) from None
        if as_json:
            self.stdout.write(
                json.dumps(
                    {"prefix": key.prefix, "name": key.name, "county": key.county_id,
                     "revoked_at": key.revoked_at.isoformat()},
                    ensure_ascii=False,
                )
            )  # fmt: skip
            return
        self.stdout.write(
            _("已吊销%(county)s的密钥“%(name)s”（%(prefix)s…）。")
            % {"county": key.county.name, "name": key.name, "prefix": key.prefix}
        )
