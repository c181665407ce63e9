"""``python -m magtrial``: the same command as the ``magtrial`` script."""

from magtrial.cli.main import main

main()
