"""Moodle XML (Question bank → Import → Moodle XML format): a category, then a Cloze (multianswer)
question for each :class:`~derive.moodle.cloze.Question`, its files inline in base64.

Written with :mod:`xml.etree.ElementTree`, which escapes every text and attribute (``&``, ``<``, ``>``,
quotes) as XML requires: the HTML inside is never concatenated into the XML by hand.
"""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from derive.moodle.cloze import Question

PENALTY = "0.3333333"
"""Moodle's default penalty per wrong try (interactive behaviour); Moodle reads it as one third."""


def category_path(name: str) -> str:
    """A category below the course's top category; a ``/`` inside a name is Moodle's ``//``."""
    return "$course$/top/" + name.replace("/", "//")


def _text(parent: ET.Element, tag: str, text: str, format: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag, {"format": format} if format else {})
    ET.SubElement(element, "text").text = text
    return element


def quiz_xml(questions: Sequence[Question], category: str | None = None) -> str:
    """The questions as one Moodle XML file, in ``category`` (a name, made below the course's top
    category on import) where one is given."""
    quiz = ET.Element("quiz")
    if category is not None:
        head = ET.SubElement(quiz, "question", {"type": "category"})
        _text(head, "category", category_path(category))
        _text(head, "info", "", "html")
    for question in questions:
        element = ET.SubElement(quiz, "question", {"type": "multianswer"})
        _text(element, "name", question.name)
        text = _text(element, "questiontext", question.text, "html")
        for name, data in question.files.items():
            attributes = {"name": name, "path": "/", "encoding": "base64"}
            ET.SubElement(text, "file", attributes).text = base64.b64encode(data).decode("ascii")
        _text(element, "generalfeedback", question.feedback, "html")
        ET.SubElement(element, "penalty").text = PENALTY
        ET.SubElement(element, "hidden").text = "0"
    ET.indent(quiz)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(quiz, encoding="unicode") + "\n"
