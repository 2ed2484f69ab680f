"""The queue's rules: tickets, counters, estimates, events, errors and the injected clock."""
