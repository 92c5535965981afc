def test_a_schedule_reads_with_tiers_proxy_categories_window_and_milestones(api, key):
    response = api.get("/api/v1/schedules/53/2023")
    assert response.status_code == 200
    body = response.json()
    assert body["province"] == {"code": "53", "name": "云南省"}
    assert body["year"] == 2023
    assert body["tiers"][0] == {"amount": "100.00", "subsidy": "30.00", "government_only": True}
    assert [t["amount"] for t in body["tiers"]][-1] == "3000.00"
    assert body["proxy_amount"] == "100.00"
    assert body["qualifying_categories"] == [
        {"code": "dibao", "label": "低保对象"},
        {"code": "tekun", "label": "特困人员"},
        {"code": "fanpin", "label": "返贫致贫人口"},
    ]
    assert body["window"] == {"start": "2023-03-01", "end": "2023-12-31"}
    assert body["proxy_due"] is None
    assert [(m["due_on"], m["rate"]) for m in body["milestones"]] == [
        ("2023-06-30", "60.00"),
        ("2023-08-31", "90.00"),
        ("2023-09-30", "95.00"),
        ("2023-10-31", "98.00"),
    ]


def test_a_year_without_a_schedule_answers_404(api):
    response = api.get("/api/v1/schedules/53/2030")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_another_provinces_schedule_answers_404(api):
    assert api.get("/api/v1/schedules/62/2023").status_code == 404


def test_another_countys_key_gets_404(other_api):
    assert other_api.get("/api/v1/schedules/53/2023").status_code == 404
    assert other_api.get("/api/v1/schedules/62/2023").status_code == 200


def test_a_malformed_province_or_year_answers_404(api):
    assert api.get("/api/v1/schedules/5/2023").status_code == 404
    assert api.get("/api/v1/schedules/53/99999999999999999999").status_code == 404


def test_without_a_key_it_answers_401(anonymous, db):
    assert anonymous.get("/api/v1/schedules/53/2023").status_code == 401
