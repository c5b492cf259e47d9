"""``python -m intake.cli``: the ``intake`` command, from a checkout or a venv without the script."""

from intake.cli.app import main

if __name__ == "__main__":
    main()
