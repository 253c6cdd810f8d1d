"""The supervised payment code: its EMV payload, the office's signature, QR images, posters, fonts."""
