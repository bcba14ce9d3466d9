"""Every string a person sees has a Chinese translation, and English is the fallback."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "translations" / "zh" / "LC_MESSAGES" / "messages.po"


def extracted() -> set[str]:
    method_map = [("stations/**.py", "python"), ("templates/**.html", "jinja2")]
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, keywords={"_": None, "gettext": None}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_is_translated_to_chinese():
    with open(PO, "rb") as f:
        catalogue = read_po(f)
    translated = {m.id: m.string for m in catalogue if m.id}
    missing = sorted(m for m in extracted() if not translated.get(m))
    assert not missing, f"add Chinese for: {missing}"


def test_pages_switch_language(client):
    assert "离我最近的驿站" in client.get("/").get_data(as_text=True)
    assert "Nearest stations to me" in client.get("/?lang=en").get_data(as_text=True)
