"""The day simulator: a whole day of a hall run through the real queue code (docs/estimates.md).

`profile.py` reads a day's profile (arrivals, service times, counters' schedules, citizens'
habits); `plan.py` applies it to a hall; `engine.py` drives the real QueueService on a temporary
database with the injected clock; `measures.py` turns the day into the summary; `report.py` writes
the HTML report (its charts: `charts.py`); `whatif.py` answers capacity questions (N counters on a
service, counters needed per hour for a target wait); `run.py` is what `giliran simulate` does.
"""
