"""The JSON API, documented as OpenAPI at /api/docs."""
