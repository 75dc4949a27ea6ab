#!/usr/bin/env python3
"""STABILITY: how much gene rankings agree across seeds and models (Jaccard, Spearman, Kendall).

The pipeline calls this script. The command: genexai.cli.stability
(also ``genexai stability``).
"""

from genexai.cli.stability import main

if __name__ == "__main__":
    main()
