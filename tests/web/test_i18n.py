"""Every string a template translates has its Ukrainian, so no page is half in English."""

from __future__ import annotations

import re
from pathlib import Path

from dsom.web import i18n

TEMPLATES = Path(i18n.__file__).parent / "templates"
CALL = re.compile(r"""\bt\(\s*(['"])(.+?)\1\s*\)""", re.S)


def test_every_translated_template_string_has_its_ukrainian() -> None:
    missing: dict[str, list[str]] = {}
    for template in sorted(TEMPLATES.rglob("*.html")):
        for match in CALL.finditer(template.read_text(encoding="utf-8")):
            text = match.group(2)
            if text not in i18n.UK:
                missing.setdefault(str(template.relative_to(TEMPLATES)), []).append(text)
    assert missing == {}


def test_the_finder_sees_calls_in_the_templates() -> None:
    found = [
        m.group(2)
        for template in TEMPLATES.rglob("*.html")
        for m in CALL.finditer(template.read_text(encoding="utf-8"))
    ]
    assert "Log in" in found
    assert len(found) > 20


def test_english_is_the_key_and_ukrainian_the_default() -> None:
    assert i18n.translator("en")("Registers") == "Registers"
    assert i18n.translator("uk")("Registers") == "Реєстри"
    assert i18n.translator("en")("wrong_password") == "Wrong password for this key file."
    assert i18n.DEFAULT == "uk"
