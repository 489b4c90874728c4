"""The office's day as one queue: checked-in appointments and walk-in tickets wait
together, a clerk calls the next one, the waiting room's screen shows the calls.

Models in `models.py`, the rules (order, quota, check-in window, the one-call-only
guarantee) in `operations.py`, the screen's change signal in `signal.py`, kiosk links in
`kiosk.py`. Views live in the citizen, back-office and API packages and call these."""
