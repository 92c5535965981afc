"""Rules and writes of reconciliation and the tax-bureau sync; pages, the API, commands and tasks
call these. Each module is imported by name (`reconciliation.services.reconcile`)."""
