from __future__ import annotations

import pytest

from smartcustoms.ledger.tlog import errors


def test_error_hierarchy_and_statuses() -> None:
    classes = [getattr(errors, n) for n in errors.__all__]
    for cls in classes:
        assert issubclass(cls, errors.TlogError)
        assert cls.__name__ in (errors.__doc__ or ""), cls
    assert errors.MalformedNote.status_code == 400
    assert errors.RecordTooLarge.status_code == 413
    assert errors.ProofError.status_code == 422
    assert errors.MissingHash.status_code == 500
    assert len({cls.code for cls in classes}) == len(classes)


def test_errors_render_as_the_product_json_shape() -> None:
    err = errors.ProofError("proof has 2 hashes, want 3", details=[{"got": 2, "want": 3}])
    assert err.to_dict() == {
        "error": {
            "code": "invalid_proof",
            "message": "proof has 2 hashes, want 3",
            "details": [{"got": 2, "want": 3}],
        }
    }
    assert errors.VerificationError("x", code="origin_mismatch").code == "origin_mismatch"
    assert errors.VerificationError("x").code == "verification_failed"  # the class is untouched


def test_the_core_errors_are_not_the_products() -> None:
    # The core imports nothing of the product: its errors stand on Exception alone.
    with pytest.raises(errors.TlogError):
        raise errors.MalformedKey("bad key")
    assert errors.TlogError.__mro__ == (errors.TlogError, Exception, BaseException, object)
