"""The online queue (issue 21, docs/booking.md): numbers taken from home for today, bookings of a
time slot on a later day, verified identities and their limits, check-in at the hall."""
