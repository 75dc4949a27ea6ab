"""genexai.models: data aligned to a model's genes and classes."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from genexai import keys
from genexai.errors import InputError
from genexai.models import align_to_model, load_model, save_checkpoint
from tests.helpers.models import CLASSES, GENES


def data(genes=GENES, classes=CLASSES) -> ad.AnnData:
    obs = pd.DataFrame(
        {keys.LABEL: pd.Categorical([classes[0]] * 4, categories=classes)},
        index=[f"s{i}" for i in range(4)],
    )
    return ad.AnnData(
        X=np.zeros((4, len(genes)), np.float32), obs=obs, var=pd.DataFrame(index=genes)
    )


def test_align_to_model(tmp_path, gene_model, checkpoint_meta):
    path = tmp_path / "m.pt"
    save_checkpoint(path, gene_model("LR"), meta=checkpoint_meta)
    model = load_model(path)
    shuffled = data(genes=GENES[::-1])
    assert list(align_to_model(shuffled, model, where="d").var_names) == GENES
    with pytest.raises(InputError, match="d: genes do not match the model: 1 expected genes"):
        align_to_model(data(genes=GENES[:-1]), model, where="d")
    with pytest.raises(InputError, match=r"d: obs\['label'\] classes \['A', 'C', 'B'\] do not"):
        align_to_model(data(classes=["A", "C", "B"]), model, where="d")
