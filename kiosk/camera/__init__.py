"""The camera: frame sources, QR decoding, face capture."""
