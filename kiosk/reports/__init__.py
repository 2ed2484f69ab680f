"""Reports for the hall's management: read-side services over `Store.reports` (never the writer):
summaries (summary.py), charts' data and counters' utilisation (charts.py, usage.py), agency
scoping (scope.py), exports (export.py) and demo history (demo.py). docs/reports.md defines every number."""
