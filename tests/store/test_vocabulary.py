"""The store's vocabularies: ``IndicatorType`` is written out, so a test keeps it equal to the extractor's ``Kind``."""

from __future__ import annotations

from iocflow.extract.model import Kind
from iocflow.store.vocabulary import DEFAULT_SCOPES, IndicatorType, Scope, type_of_kind

ATTACK_KINDS = (Kind.ATTACK_TECHNIQUE, Kind.ATTACK_TACTIC, Kind.ATTACK_MITIGATION)


def test_indicator_types_are_the_kinds_with_attack_folded_plus_filename() -> None:
    """Same names, same values, same order: Kind's minus the three ATT&CK kinds, then MITRE_ATTACK and FILENAME."""
    expected = [(k.name, k.value) for k in Kind if k not in ATTACK_KINDS]
    expected += [("MITRE_ATTACK", "mitre_attack"), ("FILENAME", "filename")]
    assert [(t.name, t.value) for t in IndicatorType] == expected


def test_every_kind_has_its_type() -> None:
    for kind in Kind:
        expected = IndicatorType.MITRE_ATTACK if kind in ATTACK_KINDS else IndicatorType[kind.name]
        assert type_of_kind(kind) is expected


def test_a_type_is_its_value() -> None:
    """Equal to, hashed as and printed as its value, so sets of strings and f-strings see the plain name."""
    assert IndicatorType.URL == "url"
    assert hash(IndicatorType.URL) == hash("url")
    assert "url" in {IndicatorType.URL} and IndicatorType.URL in {"url"}
    assert f"{IndicatorType.SOCKET_ADDRESS}" == str(IndicatorType.SOCKET_ADDRESS) == "socket_address"


def test_scopes() -> None:
    assert [s.value for s in Scope] == ["read:iocs", "read:stix", "write:indicators", "extract", "admin"]
    assert all(Scope(s) for s in DEFAULT_SCOPES)
    assert f"{Scope.READ_STIX}" == "read:stix"


def test_the_api_re_exports_the_scopes() -> None:
    from iocflow.api import tiers

    assert tiers.Scope is Scope
    assert tiers.DEFAULT_SCOPES is DEFAULT_SCOPES
