"""`kiosk setup`: the first-run wizard of a new site laptop (app.py) and what it does (logic.py)."""
