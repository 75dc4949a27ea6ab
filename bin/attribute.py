#!/usr/bin/env python3
"""ATTRIBUTE: explain a trained classifier gene by gene (Bontonou et al. 2023, §5).

The pipeline calls this script. The command: genexai.cli.attribute
(also ``genexai attribute``).
"""

from genexai.cli.attribute import main

if __name__ == "__main__":
    main()
