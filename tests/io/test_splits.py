"""genexai.io: the rows of one split."""

from __future__ import annotations

import pytest

from genexai import keys
from genexai.errors import InputError
from genexai.io import split_rows


def test_split_rows(prepared_adata):
    adata = prepared_adata()
    assert split_rows(adata, "all", where="f").n_obs == adata.n_obs
    test = split_rows(adata, "test", where="f")
    assert (test.obs[keys.SPLIT] == "test").all() and test.n_obs == 16
    del adata.obs[keys.SPLIT]
    with pytest.raises(InputError, match=r"f: obs\['split'\] is missing"):
        split_rows(adata, "train", where="f")
