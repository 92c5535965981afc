"""The tax-bureau sync API (REST, versioned under /api/v1/)."""
