"""TCGA barcodes: patients and primary-tumour samples (method.md §2.1).

A sample barcode reads project-site-participant-sample..., e.g.
``TCGA-02-0047-01A-01R-1849-01``; the first two digits of field 4 are the
sample type.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError

#: Barcode field 4 prefixes kept by the PanCan filter: 01 primary solid
#: tumour, 03 primary blood-derived cancer.
PRIMARY_TUMOUR_CODES = ("01", "03")
#: Project, tissue source site, participant, then the 2-digit sample type.
_BARCODE = r"[A-Za-z0-9]+-[A-Za-z0-9]+-[A-Za-z0-9]+-\d\d"


def _barcode_fields(samples: pd.Index, *, where: str) -> pd.Series:
    """The ``-``-separated fields of each barcode; anything else is an error."""
    bad = ~samples.str.match(_BARCODE)
    if bad.any():
        msg = (
            f"{where}: sample {samples[bad][0]!r} is not a TCGA barcode "
            "(expected TCGA-XX-XXXX-01...)"
        )
        raise InputError(msg)
    return pd.Series(samples.str.split("-"), index=samples)


def patients(samples: pd.Index, *, where: str) -> pd.Index:
    """Patient barcodes: the first three fields of each sample barcode."""
    return pd.Index(_barcode_fields(samples, where=where).str[:3].str.join("-"))


def primary_tumour(samples: pd.Index, *, where: str) -> np.ndarray:
    """``(n_samples,)`` bool: barcode field 4 starts with a primary-tumour code (01, 03)."""
    codes = _barcode_fields(samples, where=where).str[3].str[:2]
    return codes.isin(PRIMARY_TUMOUR_CODES).to_numpy()
