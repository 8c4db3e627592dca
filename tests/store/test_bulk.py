"""The ingest hot path's shortcuts: driver-level bulk writes and hand-built UUIDs equal what the libraries make."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from iocflow.store import bulk
from iocflow.store.models import IndicatorRow, SourceRow
from iocflow.store.records import NAMESPACE, indicator_id, uuid5
from iocflow.store.store import Store

T0 = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


def _indicator(value: str, **overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": indicator_id("domain", value), "type": "domain", "value": value, "first_seen": T0, "last_seen": T0,
        "confidence": "high", "severity": "high", "reputation": "bad", "reliability": "B", "expires_at": None,
        "tags": ["a", "b"], "industries": [], "techniques": ["T1059"], "indicator_class": None, "comment": None,
        "source_count": 1, "sighting_count": 1, "allowlisted": False, "allowlist_reason": None,
    }
    return row | overrides


def test_inserted_keys_are_the_stored_ones(store: Store) -> None:
    rows = [_indicator(f"host{i}.example.net") for i in range(1200)]
    with store._transaction() as session:
        bulk.insert_keyed(session, IndicatorRow.__table__, rows[:7], natural="id")  # keys do not start at 1
        keys = bulk.insert_keyed(session, IndicatorRow.__table__, rows[7:], natural="id")
    with store._transaction() as session:
        stored = dict(session.execute(select(IndicatorRow.id, IndicatorRow.pk)).all())
    assert len(keys) == 1193
    assert keys == {row["id"]: stored[row["id"]] for row in rows[7:]}  # type: ignore[index]


def test_keys_are_read_back_when_they_are_not_consecutive(store: Store) -> None:
    # Rows that bring their own keys, out of order: the last-rowid arithmetic must notice and look them up.
    rows = [_indicator("b.example.net", pk=50), _indicator("a.example.net", pk=10), _indicator("c.example.net", pk=30)]
    with store._transaction() as session:
        keys = bulk.insert_keyed(session, IndicatorRow.__table__, rows, natural="id")
    assert keys == {rows[0]["id"]: 50, rows[1]["id"]: 10, rows[2]["id"]: 30}


def test_converted_values_read_back_as_the_orm_writes_them(store: Store) -> None:
    other_zone = timezone(timedelta(hours=5, minutes=30))
    row = _indicator("x.example.net", first_seen=T0.astimezone(other_zone), expires_at=T0 + timedelta(days=30),
                     tags=["ünïcode", 'quote"d'], comment="a 'comment'")
    with store._transaction() as session:
        bulk.insert_rows(session, IndicatorRow.__table__, [row])
        session.add(IndicatorRow(**(_indicator("y.example.net") | {"first_seen": T0, "expires_at": T0 + timedelta(days=30),
                                                                   "tags": ["ünïcode", 'quote"d']})))
    with store._transaction() as session:
        bulk_row, orm_row = (session.scalars(select(IndicatorRow).where(IndicatorRow.value == v)).one()
                             for v in ("x.example.net", "y.example.net"))
        assert bulk_row.first_seen == T0 and bulk_row.first_seen.tzinfo is not None
        assert bulk_row.expires_at == orm_row.expires_at
        assert bulk_row.tags == orm_row.tags == ["ünïcode", 'quote"d']
        assert bulk_row.techniques == ["T1059"] and bulk_row.industries == []
        assert bulk_row.comment == "a 'comment'"
        # Range queries compare the stored text on SQLite: both writers must store the same form.
        assert session.scalar(select(IndicatorRow.value).where(IndicatorRow.first_seen == T0,
                                                               IndicatorRow.value == "x.example.net")) is not None


def test_update_rows_by_key(store: Store) -> None:
    with store._transaction() as session:
        keys = bulk.insert_keyed(session, IndicatorRow.__table__, [_indicator("u.example.net")], natural="id")
        bulk.update_rows(session, IndicatorRow.__table__, [{"pk": k, "comment": "changed"} for k in keys.values()],
                         key="pk")
        bulk.update_rows(session, SourceRow.__table__, [], key="id")  # nothing to do is not an error
    with store._transaction() as session:
        assert session.scalar(select(IndicatorRow.comment)) == "changed"


@given(st.text())
def test_ids_are_standard_uuid5(name: str) -> None:
    assert uuid5(name) == str(uuid.uuid5(NAMESPACE, name))


def test_columns_empty_in_every_row_are_stored_null(store: Store) -> None:
    rows = [_indicator("n1.example.net"), _indicator("n2.example.net", comment="kept", allowlisted=True)]
    with store._transaction() as session:
        bulk.insert_rows(session, IndicatorRow.__table__, rows)  # comment: None, then a value
        bulk.insert_rows(session, IndicatorRow.__table__, [_indicator("n3.example.net")])  # comment: None only
    with store._transaction() as session:
        stored = {r.value: (r.comment, r.indicator_class, r.allowlisted) for r in session.scalars(select(IndicatorRow))}
    assert stored == {"n1.example.net": (None, None, False), "n2.example.net": ("kept", None, True),
                      "n3.example.net": (None, None, False)}


def test_a_duplicate_key_is_sqlalchemys_integrity_error_on_both_databases(store: Store) -> None:
    # Store.record retries a batch once on IntegrityError (a concurrent writer inserted the same indicator).
    with store._transaction() as session:
        bulk.insert_rows(session, IndicatorRow.__table__, [_indicator("dup.example.net")])
    with pytest.raises(IntegrityError), store._transaction() as session:
        bulk.insert_keyed(session, IndicatorRow.__table__, [_indicator("other.example.net"), _indicator("dup.example.net")],
                          natural="id")
    assert store.count() == 1  # the failed batch left nothing behind
