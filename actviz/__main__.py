"""``python -m actviz`` is the ``actviz`` command."""

from actviz.cli import main

if __name__ == "__main__":
    main()
