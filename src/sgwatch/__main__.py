"""``python -m sgwatch``."""

from sgwatch.cli import main

main()
