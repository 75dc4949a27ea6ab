#!/usr/bin/env python3
"""GRAPH: the gene correlation graph Â of the diffused models, from the training split.

The pipeline calls this script. The command: genexai.cli.graph
(also ``genexai graph``).
"""

from genexai.cli.graph import main

if __name__ == "__main__":
    main()
