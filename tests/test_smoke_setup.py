def test_demo_tenants_are_served(steinfurt, emsdetten):
    assert steinfurt.get("/api/v1/tenant").json["slug"] == "steinfurt"
    assert emsdetten.get("/api/v1/tenant").json["slug"] == "emsdetten"
