"""Log in to a running demo as township staff and read pages a clerk would open first."""

import http.cookiejar
import re
import sys
import urllib.parse
import urllib.request

base = sys.argv[1].rstrip("/")
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


def get(path: str) -> str:
    with opener.open(base + path, timeout=30) as response:
        assert response.status == 200, (path, response.status)
        return response.read().decode()


login_page = get("/login/")
token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page).group(1)
form = urllib.parse.urlencode(
    {"username": "nuoliang_staff", "password": "pension2023", "csrfmiddlewaretoken": token}
).encode()
request = urllib.request.Request(base + "/login/", data=form, headers={"Referer": base + "/login/"})
with opener.open(request, timeout=30) as response:
    home = response.read().decode()
    assert response.geturl().rstrip("/") == base, response.geturl()
assert "工作台" in home and "糯良乡" in home, "home page did not render for the township user"

listing = get("/residents/")
assert "参保人查询" in listing
numbers = re.findall(r"/residents/(\d{17}[\dX])/", listing)
assert numbers, "the township's resident list is empty"
detail = get(f"/residents/{numbers[0]}/")
assert "缴费记录" in detail and "特殊群体身份" in detail
month = get("/reconciliation/")
assert 'data-testid="month-table"' in month, "the demo's reconciled month did not render"
worklist = get("/reconciliation/discrepancies/")
assert "对账差异" in worklist or "差异" in worklist
dashboard = get("/dashboard/")
assert 'data-chart="progress"' in dashboard and 'data-tile="reconciliation"' in dashboard, (
    "the township's dashboard did not render its chart and tiles"
)
assert get("/static/vendor/echarts/echarts.min.js"), "ECharts is not served locally"
docs = get("/api/docs/")
assert "vendor/swagger-ui" in docs and "cdn" not in docs.lower(), "the API docs need a CDN"
print(
    f"smoke: logged in, {len(numbers)} residents listed, resident page rendered,"
    " the reconciled month and its differences shown, the dashboard drawn, API docs served"
    " locally"
)
