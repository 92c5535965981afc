"""The browser pages of the campaign, one module per part; each view parses input, calls a
service and renders."""
