from conftest import write_csv


def test_station_list_shows_stations(client, seeded):
    page = client.get("/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert (
        "3 个站点" in text
        and "城中区长江路工会驿站" in text
        and "周一至周五 08:00–18:00；法定节假日休息" in text
    )
    assert "饮用水" in text


def test_station_text_is_escaped(client, cli, tmp_path):
    rows = [["X1", "<img src=x onerror=alert(1)>", "31.8206", "117.2272"]]
    cli("import", write_csv(tmp_path / "xss.csv", rows, header=["code", "name", "lat", "lon"]))
    text = client.get("/").get_data(as_text=True)
    assert "<img src=x" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text


def test_demo_data_is_marked(client, cli):
    cli("seed")
    assert "以下站点均为虚构" in client.get("/").get_data(as_text=True)


def test_real_data_has_no_demo_banner(client, seeded):
    assert "虚构" not in client.get("/").get_data(as_text=True)


def test_bad_page_number_is_400(client, seeded):
    assert client.get("/?page=abc").status_code == 400
    assert client.get("/?page=99").status_code == 200


def test_no_manager_phone_on_public_pages(client, seeded):
    assert "13800138000" not in client.get("/").get_data(as_text=True)
