"""``python -m gdperceptron.cli``."""

from gdperceptron.cli import main

raise SystemExit(main())
