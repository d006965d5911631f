"""Typed errors of federation: refused cards and refused requests, each naming what failed."""

from __future__ import annotations

from smartcustoms.core.errors import (
    ConfigurationError,
    Conflict,
    SmartCustomsError,
    Unauthenticated,
)

__all__ = [
    "CardRejected",
    "FederationNotConfigured",
    "PartnerConflict",
    "PartnerUnreachable",
    "RequestRefused",
]


class FederationNotConfigured(ConfigurationError):
    """This instance has no federation URL or country yet (a setting to set, named).

    409, not 503: nothing is down and trying again will not help until an administrator sets
    it (the command line exits 2, as for any setting)."""

    status_code = 409
    code = "federation_not_configured"


class CardRejected(SmartCustomsError):
    """A partner card that does not verify: its signature, or a field (named in ``details``)."""

    status_code = 422
    code = "card_rejected"


class PartnerConflict(Conflict):
    """A card of this instance itself (``partner_is_self``) or of a partner already in the
    directory (``partner_exists``)."""

    code = "partner_exists"


class RequestRefused(Unauthenticated):
    """A signed request refused (401). ``code`` says why: ``signature_missing``,
    ``signature_invalid``, ``unknown_key``, ``partner_suspended``, ``digest_mismatch``,
    ``stale_request``, ``nonce_missing``, ``nonce_replayed``."""

    code = "request_refused"


class PartnerUnreachable(SmartCustomsError):
    """A partner's instance could not be reached or did not answer as an instance should."""

    status_code = 502
    code = "partner_unreachable"
