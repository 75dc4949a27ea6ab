"""A small EVALUATE input shared by the evaluate and stability tests.

:func:`make_run` (the ``evaluation_run`` fixture, tests/conftest.py) builds a
prepared file, a model with metadata and attributions of its test rows;
:data:`FAST` holds options that keep EVALUATE quick.
"""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import torch

from genexai import keys
from tests.helpers.metrics import make_model

N_GENES = 40
FAST = {
    "gap": 4,
    "n_random": 2,
    "curve_random": 2,
    "openxai_samples": 2,
    "openxai_k": 5,
    "top_n": 7,
}


def make_run(*, kind="linear", n_classes=3, n_sub=None, n_obs=45, seed=0):
    """A prepared file, a model with metadata, and attributions of its test rows
    (in the order :func:`evaluate` takes them)."""
    n_sub = n_sub or n_classes
    rng = np.random.default_rng(seed)
    genes = [f"G{g:03d}" for g in range(N_GENES)]
    classes = [f"C{c}" for c in range(n_classes)]
    subclass = np.arange(n_obs) % n_sub
    label = subclass if n_sub == n_classes else (subclass == n_sub - 1).astype(int)
    prepared = ad.AnnData(
        X=rng.standard_normal((n_obs, N_GENES)).astype(np.float32),
        obs=pd.DataFrame(
            {
                keys.LABEL: pd.Categorical.from_codes(label, categories=classes),
                keys.SUBCLASS: pd.Categorical.from_codes(
                    subclass, categories=[f"S{j}" for j in range(n_sub)]
                ),
                keys.SPLIT: pd.Categorical(np.where(np.arange(n_obs) % 4, keys.TEST, keys.TRAIN)),
            },
            index=[f"sample{i:03d}" for i in range(n_obs)],
        ),
        var=pd.DataFrame(index=genes),
    )
    prepared.varm[keys.INFORMATIVE] = pd.DataFrame(
        rng.random((N_GENES, n_sub)) < 0.3, index=genes, columns=[f"S{j}" for j in range(n_sub)]
    )
    model = make_model(kind, N_GENES, n_classes, seed=seed)
    model.genexai = {"arch": kind.upper(), "seed": seed, "genes": genes, "classes": classes}
    test = prepared[prepared.obs[keys.SPLIT] == keys.TEST]
    baseline = (0.1 * rng.standard_normal(N_GENES)).astype(np.float32)
    x = torch.from_numpy(test.X)
    with torch.no_grad():
        probs = torch.softmax(model(x), dim=-1).double().numpy()
        base = torch.softmax(model(torch.from_numpy(baseline)[None]), dim=-1).double().numpy()[0]
    codes = test.obs[keys.LABEL].cat.codes.to_numpy(np.int64)
    pred = probs.argmax(axis=1)
    # Attributions that favour the informative genes, plus noise.
    informative = prepared.varm[keys.INFORMATIVE].to_numpy()
    columns = subclass[test.obs_names.str[6:].astype(int)]
    a = informative[:, columns].T + 0.5 * rng.standard_normal((len(codes), N_GENES))
    obs = pd.DataFrame(
        {
            keys.LABEL: test.obs[keys.LABEL].array,
            keys.PREDICTION: pd.Categorical.from_codes(pred, categories=classes),
            keys.CORRECT: pred == codes,
            keys.TARGET: codes,
            keys.TARGET_PROB: probs[np.arange(len(codes)), codes],
            keys.BASELINE_PROB: base[codes],
            keys.SUBCLASS: test.obs[keys.SUBCLASS].to_numpy(),
            keys.DELTA: 10.0 ** rng.uniform(-7, -2, len(codes)),
            keys.N_STEPS: rng.choice([200, 400], len(codes)),
        },
        index=test.obs_names.copy(),
    )
    obs.loc[obs.index[:n_classes], keys.CORRECT] = True  # every class has a correct example
    attributions = ad.AnnData(X=a.astype(np.float32), obs=obs, var=pd.DataFrame(index=genes))
    attributions.varm[keys.INFORMATIVE] = prepared.varm[keys.INFORMATIVE]
    attributions.uns[keys.UNS] = {
        keys.ATTRIBUTE: {
            keys.METHOD: "integrated_gradients",
            keys.BASELINE: baseline,
            keys.TARGET_KIND: "true",
            keys.ARCH: kind.upper(),
            keys.SEED: seed,
        }
    }
    return prepared, model, attributions
