"""Docs are the contract: every event, setting and command is documented."""

from pathlib import Path

from synthgov.config import Settings
from synthgov.domains import load_domains
from synthgov.events import event_fields

DOCS = Path(__file__).parents[1] / "docs"
README = Path(__file__).parents[1] / "README.md"


def test_every_event_is_documented():
    text = (DOCS / "events.md").read_text()
    events = load_domains().events
    assert len(events) >= 7
    for event in events:
        assert f"`{event.kind}`" in text, event.kind
        for name in event_fields(event):
            assert f"`{name}`" in text, (event.kind, name)


def test_every_setting_is_documented():
    text = (DOCS / "configuration.md").read_text()
    for name in Settings.model_fields:
        assert f"`{name}`" in text and f"SYNTHGOV_{name.upper()}" in text, name


def test_readme_shows_the_two_commands():
    text = README.read_text()
    assert "make run" in text and "make test" in text
