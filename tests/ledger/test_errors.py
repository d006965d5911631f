from __future__ import annotations

from smartcustoms.core.errors import BadRequest, PayloadTooLarge, SmartCustomsError
from smartcustoms.ledger import errors


def test_error_hierarchy_and_statuses() -> None:
    classes = [getattr(errors, n) for n in errors.__all__]
    for cls in classes:
        assert issubclass(cls, errors.LedgerError)
        assert issubclass(cls, SmartCustomsError)
        assert cls.__name__ in (errors.__doc__ or ""), cls
    assert errors.MalformedNote.status_code == 400
    assert issubclass(errors.MalformedNote, BadRequest)
    assert issubclass(errors.RecordTooLarge, PayloadTooLarge)
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
