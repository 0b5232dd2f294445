"""Pure rendering of alerts and digests for every channel. No I/O, no network imports."""
