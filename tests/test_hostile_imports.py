"""Imports that cannot be turned against the server: every file of the hostile corpus
(tests/hostile_files.py) is refused with its problem named — a 400 on the staff page, one
non-zero CLI exit, no traceback, no server path — and the database is left as it was. A viewer's
upload is refused before anything reads it."""

import html
import json
import tempfile
import time

import hostile_files
import pytest
from hostile_files import CORPUS
from staff_helpers import csrf, job_outcome, signed_in
from werkzeug.datastructures import FileStorage, MultiDict

from stations.core import columns

from conftest import snapshot as whole_snapshot


def snapshot(db_path) -> list[str]:
    """The database as SQL text, but for the import jobs' own records (a refused job is one)."""
    return [line for line in whole_snapshot(db_path) if "import_jobs" not in line]


XLSX_FILE_LEVEL = [
    "shared-strings-bomb",
    "lying-dimension",
    "no-workbook-rels",
    "missing-sheet",
    "relationship-without-target",
    "malformed-workbook",
    "beyond-last-column",
]


@pytest.fixture
def hf(staff_app):
    return signed_in(staff_app, "hf-admin")


def post_file(client, url, path, **form):
    """The upload as a browser sends it. The body is encoded in memory: Werkzeug's test client
    would spool a large one to a temporary file of its own that it never closes, which would
    hide a file left open by the server from the ResourceWarning checks below."""
    from werkzeug.test import encode_multipart

    token = csrf(client, "/admin/import")
    with open(path, "rb") as f:
        boundary, body = encode_multipart(
            MultiDict({"csrf_token": token, **form, "file": FileStorage(f, path.name)})
        )
    with client.post(
        url, data=body, content_type=f"multipart/form-data; boundary={boundary}"
    ) as response:
        response.get_data()  # read before the body is closed
        return response


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.mark.filterwarnings(
    "error::ResourceWarning", "error::pytest.PytestUnraisableExceptionWarning"
)
@pytest.mark.parametrize("name", list(CORPUS))
def test_each_hostile_file_is_refused_by_name_on_the_page_and_the_cli(
    name, hf, cli, seeded, tmp_path
):
    build, file_name, expected = CORPUS[name]
    path = build(tmp_path / file_name)
    before = snapshot(seeded)

    started = time.monotonic()
    state, response = job_outcome(hf, post_file(hf, "/admin/import", path, apply="1"))
    web_seconds = time.monotonic() - started
    page = text_of(response)
    assert state["phase"] in ("refused", "done"), state
    if state["phase"] == "done":  # refused row by row: the plan names them, nothing applied
        assert state["applied"] is None
    assert columns.label(expected) in page  # a column shows by its label, never its key
    assert "Traceback" not in page and tempfile.gettempdir() not in page
    assert str(tmp_path) not in page
    assert web_seconds < 10

    result = cli("import", path)
    assert result.exit_code == 1, result.output
    assert expected in result.output
    assert "nothing was imported" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert snapshot(seeded) == before


@pytest.mark.filterwarnings(
    "error::ResourceWarning", "error::pytest.PytestUnraisableExceptionWarning"
)
@pytest.mark.parametrize("name", XLSX_FILE_LEVEL)
def test_each_hostile_workbook_is_refused_as_a_demand_layer(name, hf, cli, seeded, tmp_path):
    build, file_name, expected = CORPUS[name]
    path = build(tmp_path / file_name)
    before = snapshot(seeded)
    response = post_file(hf, "/admin/coverage/layers", path, name="敌意", kind="demand")
    page = text_of(response)
    assert response.status_code == 400
    assert expected in page and tempfile.gettempdir() not in page
    result = cli("import-demand", path, "--layer", "敌意")
    assert result.exit_code == 1 and expected in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert snapshot(seeded) == before


def test_the_cli_refusal_of_a_lying_sheet_is_one_line_and_imports_nothing(cli, seeded, tmp_path):
    """The red team's sheet: dimension A1:D2, 250,001 rows. It was planned as "1 unchanged"
    and imported one row with exit 0."""
    path = hostile_files.lying_dimension(tmp_path / "long.xlsx")
    before = snapshot(seeded)
    result = cli("import", path)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {path}: the sheet holds 250,001 rows below its header (its dimension claims 1);"
        " the limit is 200,000 stations per import; nothing was imported"
    ]
    assert snapshot(seeded) == before


def test_rows_past_the_limit_are_caught_while_streaming_when_the_scan_is_fooled(
    tmp_path, monkeypatch
):
    from stations.core import readers, xlsx_stream

    path = hostile_files.legitimate(tmp_path / "thirty.xlsx", 30)
    monkeypatch.setattr(xlsx_stream, "count_rows", lambda wb: 2)  # as if the scan saw two
    with pytest.raises(readers.FileRejected, match="more than 20 rows"):
        readers.read(path, max_rows=20)


def test_a_legitimate_workbook_still_imports(cli, seeded, tmp_path, store):
    path = hostile_files.legitimate(tmp_path / "ok.xlsx", 50)
    result = cli("import", path)
    assert result.exit_code == 0, result.output
    assert "50 new, 0 updated, 0 unchanged" in result.output
    assert store.by_codes({"LEGIT-000049"})["LEGIT-000049"].name == "合法驿站49"


def test_a_date_formatted_cell_becomes_a_date(tmp_path):
    from stations.core import readers

    rows = [
        hostile_files.row_xml(1, [*hostile_files.HEADER, "closed_until"]),
        hostile_files.row_xml(
            2, hostile_files.ROW, hostile_files.cell("E2", "46387", "n", style=1)
        ),
    ]
    path = hostile_files.write_xlsx(tmp_path / "d.xlsx", hostile_files.sheet_xml(rows))
    table = readers.read(path)
    assert str(table.rows[0].record["closed_until"]) == "2026-12-31 00:00:00"


@pytest.mark.filterwarnings(
    "error::ResourceWarning", "error::pytest.PytestUnraisableExceptionWarning"
)
@pytest.mark.parametrize(
    "url, form",
    [
        ("/admin/import", {"apply": "1"}),
        ("/admin/coverage/layers", {"name": "炸弹", "kind": "demand"}),
    ],
)
def test_a_viewer_upload_is_refused_before_any_parser_runs(
    url, form, staff_app, seeded, tmp_path, monkeypatch
):
    from stations.core import demand_files, readers, xlsx_stream

    ran = []

    def spy(*args, **kwargs):
        ran.append(args)
        raise AssertionError("the parser ran")

    for module, name in (
        (readers, "read"),
        (readers, "xlsx_rows"),
        (xlsx_stream, "open_workbook"),
        (demand_files, "read_demand"),
    ):
        monkeypatch.setattr(module, name, spy)
    bomb = hostile_files.shared_strings_bomb(tmp_path / "bomb.xlsx")
    viewer = signed_in(staff_app, "viewer")
    before = snapshot(seeded)
    started = time.monotonic()
    response = post_file(viewer, url, bomb, **form)
    assert response.status_code == 403
    assert time.monotonic() - started < 2
    assert ran == []
    assert snapshot(seeded) == before


# -- GeoJSON read as a stream ------------------------------------------------------------------


def test_a_geojson_over_the_row_limit_is_refused_while_streaming():
    """The features never end: only a reader that counts while streaming comes back."""
    from stations.core import readers

    stream = hostile_files.EndlessFeatures(b'{"type": "Feature"}')
    with pytest.raises(readers.FileRejected) as refused:
        readers.read_geojson(stream)  # type: ignore[arg-type]
    assert "the limit is 200,000 stations per import" in str(refused.value)
    assert "more than 200,000 features" in str(refused.value)
    assert stream.given < 200_001 * 20 + 2 * 65536  # it stopped right after feature 200,001


def test_the_memory_of_a_geojson_refusal_is_bounded_by_a_feature_not_the_file():
    import tracemalloc

    from stations.core import readers

    feature = hostile_files.point_feature(remark="x" * 100_000)  # unknown, 100 KB each
    stream = hostile_files.EndlessFeatures(feature)
    tracemalloc.start()
    try:
        with pytest.raises(readers.FileRejected, match="the limit is 300 stations per import"):
            readers.read_geojson(stream, max_rows=300)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stream.given > 30_000_000
    assert peak < 3_000_000, f"{peak:,} bytes traced for {stream.given:,} read"


def test_deep_nesting_is_refused_in_little_memory(tmp_path):
    # ijson's events with path prefixes built a string as long as the nesting for every event:
    # a 20 KB file nested 10,000 deep drove the refusal to 250 MB.
    import tracemalloc

    from stations.core import readers

    path = hostile_files.deep_geojson(tmp_path / "deep.geojson")
    tracemalloc.start()
    try:
        with pytest.raises(readers.FileRejected, match="nested too deeply"):
            readers.read(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert path.stat().st_size < 30_000
    assert peak < 5_000_000, f"{peak:,} bytes traced"


def test_a_huge_property_string_is_refused_by_name_and_not_kept(tmp_path):
    from stations.core import readers

    path = hostile_files.huge_string_geojson(tmp_path / "long.geojson")
    table = readers.read(path)
    [row] = table.rows
    assert [(p.column, p.message) for p in row.problems] == [
        ("name", "is 31,457,282 characters; the limit is 2,000")
    ]
    assert row.record["name"] == ""  # the 30 MB are not carried into the plan


def test_a_huge_property_string_is_refused_on_the_cli(cli, seeded, tmp_path):
    path = hostile_files.huge_string_geojson(tmp_path / "long.geojson", chars=5000)
    before = snapshot(seeded)
    result = cli("import", str(path))
    assert result.exit_code != 0
    assert "5,002 characters; the limit is 2,000" in result.output
    assert snapshot(seeded) == before


def test_a_coordinate_beyond_the_integer_conversion_limit_is_refused_not_a_crash(
    cli, seeded, tmp_path
):
    """9,000 digits: yajl's C parser would hand Python an integer it cannot convert."""
    path = hostile_files.long_digits_geojson(tmp_path / "digits.geojson")
    before = snapshot(seeded)
    result = cli("import", str(path))
    assert result.exit_code != 0
    assert "a number of more than 4,000 digits; coordinates must be finite numbers" in result.output
    assert snapshot(seeded) == before


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"[1, 2]", "expected a GeoJSON FeatureCollection of Point features"),
        (b'{"type": "Polygon", "coordinates": []}', "expected a GeoJSON FeatureCollection"),
        (b'{"type": "FeatureCollection", "features": {}}', "'features' must be a list"),
        (b'{"type": "FeatureCollection", "features": []', "not valid JSON"),
        (
            b'{"type": "FeatureCollection", "features": [], "type": "FeatureCollection"}',
            "repeats the key 'type'",
        ),
    ],
)
def test_a_geojson_that_is_not_a_feature_collection_is_refused_clearly(text, expected):
    from stations.core import readers

    with pytest.raises(readers.FileRejected, match=expected):
        readers.read_geojson(text)


def test_a_single_feature_with_its_type_last_is_still_read():
    from stations.core import readers

    feature = json.loads(hostile_files.point_feature("ONE-1"))
    text = json.dumps({"geometry": feature["geometry"], "properties": feature["properties"]})
    table = readers.read_geojson(text[:-1].encode() + b', "type": "Feature"}')
    [row] = table.rows
    assert row.problems == []
    assert row.record == {"code": "ONE-1", "name": "驿站", "lon": 117.2272, "lat": 31.8206}


def test_a_demand_geojson_is_read_one_feature_at_a_time(tmp_path, monkeypatch):
    # Demand layers were read whole (json.loads of up to 64 MB); now they stream through the
    # station reader's walk: a file of 100 KB features is refused at the limit holding one.
    import tracemalloc

    from stations.core import readers
    from stations.core.demand_files import DemandRejected, read_demand

    feature = hostile_files.point_feature(人数=3, remark="x" * 100_000)
    path = tmp_path / "riders.geojson"
    path.write_bytes(
        b'{"type": "FeatureCollection", "features": [' + b",".join([feature] * 301) + b"]}"
    )
    monkeypatch.setattr(readers, "MAX_ROWS", 300)
    tracemalloc.start()
    try:
        with pytest.raises(DemandRejected) as refused:
            read_demand(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "the file holds more than 300 features; the limit is 300 points per import" in str(
        refused.value
    )
    assert path.stat().st_size > 30_000_000
    assert peak < 3_000_000, f"{peak:,} bytes traced"
    monkeypatch.setattr(readers, "MAX_ROWS", 301)  # the same file within the limit is read
    assert [p.weight for p in read_demand(path)] == [3.0] * 301
