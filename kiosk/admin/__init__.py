"""The administrator's app (``kiosk admin``): enrollment and reference data, a Textual app over store/."""
