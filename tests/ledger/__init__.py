"""Tests of smartcustoms.ledger, one module per module of the package."""
