#!/usr/bin/env python3
"""PREPARE: drop small classes, split train/test, transform with training statistics.

The pipeline calls this script. The command: genexai.cli.prepare
(also ``genexai prepare``).
"""

from genexai.cli.prepare import main

if __name__ == "__main__":
    main()
