"""Pilot statistics: anonymous daily figures per tenant, office, service and source.

The figures are kept incrementally (tracking.py: every change to an appointment, a
waiting-list entry or an emergency request writes a small anonymous delta row in its own
transaction; the jobs fold those rows into the daily table within seconds), recorded once
a day (recording.py: open counter minutes, days until the next free slot), read by
figures.py and shown by charts.py and export.py. Nothing here holds personal data, and
nothing is ever per clerk: office and service are the finest grain.
"""
