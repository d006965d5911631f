from __future__ import annotations

import pytest

from smartcustoms.core.errors import Conflict, ServiceUnavailable, SmartCustomsError
from smartcustoms.ledger import errors
from smartcustoms.ledger.tlog import errors as tlog_errors


def test_stored_ledger_errors_are_both_kinds() -> None:
    own = [
        getattr(errors, n)
        for n in errors.__all__
        if n != "PRODUCT_ERRORS" and not hasattr(tlog_errors, n)
    ]
    assert {cls.__name__ for cls in own} == {
        "LedgerError",
        "SigningHeld",
        "UnknownLog",
        "UntrustedCheckpoint",
        "WitnessConflict",
    }
    for cls in own:
        assert issubclass(cls, errors.LedgerError)
        assert issubclass(cls, errors.TlogError)  # `except TlogError` catches every ledger error
        assert issubclass(cls, SmartCustomsError)
        assert cls.__name__ in (errors.__doc__ or ""), cls
    assert issubclass(errors.SigningHeld, ServiceUnavailable)
    assert issubclass(errors.WitnessConflict, Conflict)
    assert errors.WitnessConflict("split view", size=7, details=[{"size": 7}]).details == [
        {"size": 7}
    ]
    assert errors.SigningHeld("held", hold="behind").to_dict()["error"]["code"] == "signing_held"


def test_the_core_errors_are_re_exported_and_caught_as_product_errors() -> None:
    for name in tlog_errors.__all__:
        assert getattr(errors, name) is getattr(tlog_errors, name)
    for cls in (errors.MalformedNote, errors.WitnessConflict, SmartCustomsError):
        with pytest.raises(errors.PRODUCT_ERRORS) as caught:
            raise cls("x")
        assert caught.value.message == "x"
