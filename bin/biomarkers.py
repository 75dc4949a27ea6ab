#!/usr/bin/env python3
"""BIOMARKERS: per class, are the top genes sufficient, necessary, stable and true?

The pipeline calls this script. The command: genexai.cli.biomarkers
(also ``genexai biomarkers``).
"""

from genexai.cli.biomarkers import main

if __name__ == "__main__":
    main()
