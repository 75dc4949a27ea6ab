#!/usr/bin/env python3
"""IMPORT: read expression data and labels into an AnnData, samples × genes.

The pipeline calls this script. The command: genexai.cli.import_data
(also ``genexai import-data``).
"""

from genexai.cli.import_data import main

if __name__ == "__main__":
    main()
