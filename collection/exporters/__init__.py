"""Workbooks and printable lists of the campaign, one module per part (ledger, proxy receipts,
agents, notices)."""
