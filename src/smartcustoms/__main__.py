"""`python -m smartcustoms` runs the command line."""

from smartcustoms.cli import main

main()
