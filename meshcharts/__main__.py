"""``python -m meshcharts``."""

from meshcharts.cli import main

main()
