"""The supervisor's live roster (``kiosk roster``): a Textual app over ``store.roster`` (day, month, history, refused)."""
