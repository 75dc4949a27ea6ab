#!/usr/bin/env python3
"""REPORT: summary tables and a self-contained HTML report of a pipeline run.

The pipeline calls this script. The command: genexai.cli.report
(also ``genexai report``).
"""

from genexai.cli.report import main

if __name__ == "__main__":
    main()
