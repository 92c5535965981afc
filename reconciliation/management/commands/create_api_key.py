import json

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pension.management.base import TranslatedCommand
from pension.models import Region, User
from reconciliation.services.keys import ApiKeyRefused, api_key_create


class Command(TranslatedCommand):
    help = gettext_lazy(
        "为一个县的税务局创建接口密钥。密钥只在此时显示一次，请立即交给税务局；数据库只保存其摘要。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--county", required=True, help=_("县级区划代码，如 530927"))
        parser.add_argument("--name", required=True, help=_("密钥名称，如“沧源县税务局征收系统”"))
        parser.add_argument(
            "--account",
            help=_(
                "使用的税务局账号（角色须为税务局、所属区划为该县）；"
                "不填则使用或新建 tax-api-<县代码>"
            ),
        )
        parser.add_argument("--json", action="store_true", dest="as_json", help=_("以 JSON 输出"))

    def handle(self, *args, county: str, name: str, account: str | None, as_json: bool, **options):
        region = Region.objects.filter(code=county, level=Region.Level.COUNTY).first()
        if region is None:
            raise CommandError(_("没有区划代码为 %(code)s 的县") % {"code": county})
        user = None
        if account:
            user = User.objects.filter(username=account).first()
            if user is None:
                raise CommandError(_("没有用户名为 %(username)s 的账号") % {"username": account})
        try:
            issued = api_key_create(county=region, name=name, account=user)
        except ApiKeyRefused as exc:
            raise CommandError(str(exc)) from None
        if as_json:
            self.stdout.write(json.dumps(issued.as_dict(), ensure_ascii=False))
            return
        self.stdout.write(
            _("已为%(county)s创建密钥“%(name)s”（账号 %(account)s）。")
            % {
                "county": region.name,
                "name": issued.key.name,
                "account": issued.key.account.username,
            }
        )
        self.stdout.write(_("密钥只显示这一次，请立即复制："))
        self.stdout.write(issued.secret)
