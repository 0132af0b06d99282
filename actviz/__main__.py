"""``python -m actviz`` is the ``actviz`` command."""

from actviz.cli.app import main

if __name__ == "__main__":
    main()
