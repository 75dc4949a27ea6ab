#!/usr/bin/env python3
"""SIMULATE: gene expression with known biomarkers (Bontonou et al. 2023, §1).

The pipeline calls this script. The command: genexai.cli.simulate
(also ``genexai simulate``).
"""

from genexai.cli.simulate import main

if __name__ == "__main__":
    main()
