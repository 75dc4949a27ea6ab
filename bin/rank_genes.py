#!/usr/bin/env python3
"""RANK_GENES: classical, model-free gene rankings per class (Wilcoxon, t-test, mutual information).

The pipeline calls this script. The command: genexai.cli.rank_genes
(also ``genexai rank-genes``).
"""

from genexai.cli.rank_genes import main

if __name__ == "__main__":
    main()
