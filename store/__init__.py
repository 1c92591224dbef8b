"""The data layer of the sign-in kiosk: schema, validation, sign-in rules, codes and sync.

Nothing here imports the UI (Textual): a test in ``tests/test_architecture.py`` proves it.
"""
