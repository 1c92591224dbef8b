"""Textual widgets shared by several front ends: pictures in a terminal (``pixels``) and the live camera
preview (``preview``), used by the officer screen, the setup wizard and the admin app."""
