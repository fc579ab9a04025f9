"""Domains declare themselves: manifests are collected, validated and used by every surface, and
services never see the raw settings."""

import re
from enum import StrEnum
from pathlib import Path

import pytest

from synthgov.domains import CliMount, Manifest, load_domains, validate
from synthgov.errors import ConfigurationError
from synthgov.labeling.events import ContentLabeled

SRC = Path(__file__).parents[1] / "src" / "synthgov"


def test_builtin_domains_are_found_by_their_manifests():
    names = [m.name for m in load_domains()]
    assert {"audit", "identity", "labeling", "provider", "records", "tracing", "watermarking"} <= set(names)
    domains = load_domains()
    assert {c.name for _, c in domains.cli_mounts()} >= {"audit", "apikey", "label", "records", "inspect", "init"}
    assert {p.value for p in domains.permissions} >= {"label:create", "inspect", "record:read", "audit:read"}


class Perm(StrEnum):
    A = "x:a"


def test_conflicts_and_bad_declarations_are_refused_at_startup():
    good = Manifest(name="extra", summary="a plugin domain", permissions=Perm, default_grants=(Perm.A,),
                    cli=(CliMount("extra", "extra.cli:app", "Extra things."),))
    assert [m.name for m in validate([*load_domains(), good])][-1] == "extra"
    with pytest.raises(ConfigurationError, match="event kind 'content.labeled' is declared by both"):
        validate([*load_domains(), Manifest(name="dup", summary="", events=(ContentLabeled,))])
    with pytest.raises(ConfigurationError, match="CLI command 'serve'"):
        validate([Manifest(name="clash", summary="", cli=(CliMount("serve", "m:a", ""),))])
    with pytest.raises(ConfigurationError, match="requires unknown domain 'nope'"):
        validate([Manifest(name="lonely", summary="", requires=("nope",))])
    with pytest.raises(ConfigurationError, match="not a 'module:attr' path"):
        validate([Manifest(name="bad", summary="", router="no.colon")])


def test_models_of_every_domain_are_registered():
    from synthgov.storage.base import Base, all_models

    all_models()
    assert {"generation_records", "watermark_payloads", "api_keys", "audit_events"} <= set(Base.metadata.tables)


def test_services_never_read_settings():
    """Rule: bootstrap turns settings into policies, handler configs and the key ring."""
    offenders = []
    for path in SRC.rglob("service.py"):
        text = path.read_text()
        if re.search(r"\bctx\.settings\b|platform\.settings\b|from synthgov\.config import", text):
            offenders.append(str(path.relative_to(SRC)))
    assert offenders == ["provider/service.py"]  # init writes the config file itself


def test_domain_code_does_not_reach_into_a_modality():
    offenders = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
                 if not p.is_relative_to(SRC / "modalities") and "synthgov.modalities.image" in p.read_text()
                 and p.name != "registry.py"]
    assert offenders == []
