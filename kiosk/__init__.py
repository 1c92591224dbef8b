"""The kiosk application: command line, Textual screens, camera and decoding.

The data layer lives in ``store/`` and never imports this package.
"""
