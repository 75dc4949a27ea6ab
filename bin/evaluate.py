#!/usr/bin/env python3
"""EVALUATE: prediction gaps, feature agreement, curves, top genes, gene scores (§6-8).

The pipeline calls this script. The command: genexai.cli.evaluate
(also ``genexai evaluate``).
"""

from genexai.cli.evaluate import main

if __name__ == "__main__":
    main()
