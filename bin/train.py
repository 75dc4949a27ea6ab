#!/usr/bin/env python3
"""TRAIN: fit one classifier (LR, MLP, DiffuseLR, DiffuseMLP) on a prepared dataset.

The pipeline calls this script. The command: genexai.cli.train
(also ``genexai train``).
"""

from genexai.cli.train import main

if __name__ == "__main__":
    main()
