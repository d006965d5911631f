"""The fields a targeting rule may name, and their types.

By default these are the risk engine's item fields and derived fields
(:mod:`smartcustoms.risk.schema`). A caller with more fields (say ``aeo_status`` from the
declarations layer) passes its own mapping to :func:`~smartcustoms.risk.rules.parser.parse`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from smartcustoms.risk.schema import DERIVED_FIELDS, ITEM_FIELDS

__all__ = ["RULE_FIELDS", "FieldType"]

FieldType = Literal["text", "number", "date"]

RULE_FIELDS: Mapping[str, FieldType] = {f.name: f.kind for f in (*ITEM_FIELDS, *DERIVED_FIELDS)}
