"""BIOMARKERS (genexai.biomarkers): every column of the three tables against plain
computations, the verdict's thresholds and vocabulary, gene sets, refusals."""

from __future__ import annotations

import dataclasses
import itertools
import logging

import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.stats

from genexai import io, keys
from genexai.biomarkers import Thresholds, biomarkers, gene_ranks, verdict_text
from genexai.errors import InputError
from genexai.metrics import class_informative
from tests.helpers.biomarkers import DATASET, RUNS, K, make_inputs

IG = "integrated_gradients"


@pytest.fixture(scope="module")
def inputs():
    return make_inputs()


@pytest.fixture(scope="module")
def result(inputs):
    prepared, scores, curves, rankings = inputs
    return biomarkers(prepared, scores, curves, rankings, dataset=DATASET, top_k=K)


def _classes(prepared) -> list[str]:
    return [str(c) for c in prepared.obs[keys.LABEL].cat.categories]


def _plain_rank(values: np.ndarray) -> np.ndarray:
    """1 = largest |value|, ties by index."""
    order = sorted(range(len(values)), key=lambda g: (-abs(values[g]), g))
    ranks = np.empty(len(values), dtype=np.int64)
    for position, g in enumerate(order):
        ranks[g] = position + 1
    return ranks


def _held(scores, method: str, cls: str, model: str | None = None):
    """``[(model, seed, m_c)]`` of the runs of ``method`` (and ``model``) holding ``cls``."""
    out = []
    for adata in scores:
        p = adata.uns[keys.UNS][keys.EVALUATE]
        if p[keys.METHOD] == method and cls in adata.obs_names and model in (None, p[keys.MODEL]):
            out.append((p[keys.MODEL], p[keys.SEED], np.asarray(adata[cls].X).ravel()))
    return out


def _run(adata) -> tuple[str, str, int]:
    p = adata.uns[keys.UNS][keys.EVALUATE]
    return p[keys.METHOD], p[keys.MODEL], p[keys.SEED]


def _top(mean_rank: np.ndarray, k: int) -> list[int]:
    return sorted(range(len(mean_rank)), key=lambda g: (mean_rank[g], g))[:k]


def test_gene_ranks_match_a_plain_sort():
    rng = np.random.default_rng(0)
    scores = rng.integers(-3, 4, (5, 30)).astype(np.float64)  # many ties, signs
    want = np.array([_plain_rank(row) for row in scores])
    np.testing.assert_array_equal(gene_ranks(scores), want)


def test_biomarker_table_matches_plain_computation(inputs, result):
    prepared, scores, _, rankings = inputs
    classes = _classes(prepared)
    truth = class_informative(np.asarray(prepared.varm[keys.INFORMATIVE]), n_classes=3)
    table = result.biomarkers
    assert list(table.columns) == [*keys.BIOMARKER_COLUMNS, keys.INFORMATIVE]
    assert set(table["method"]) == {IG}
    assert set(table["dataset"]) == {DATASET}
    assert table["rank"].dtype == np.int64
    assert table["n_runs"].dtype == np.int64
    for c, cls in enumerate(classes):
        held = _held(scores, IG, cls)
        ranks = np.array([_plain_rank(m) for _, _, m in held])
        top = _top(ranks.mean(axis=0), K)
        rows = table[table["class"] == cls]
        assert list(rows["rank"]) == list(range(1, K + 1))
        assert list(rows["gene"]) == [prepared.var_names[g] for g in top]
        np.testing.assert_allclose(rows["mean_rank"], ranks.mean(axis=0)[top])
        np.testing.assert_allclose(rows["rank_std"], ranks.std(axis=0)[top])
        assert set(rows["n_runs"]) == {len(held)}
        models = sorted({m for m, _, _ in held})
        for gene_index, row in zip(top, rows.itertuples(), strict=True):
            per_model = []
            in_model_top = 0
            for model in models:
                mine = ranks[[i for i, (m, _, _) in enumerate(held) if m == model]]
                per_model.append(np.mean(mine[:, gene_index] <= K))
                in_model_top += gene_index in _top(mine.mean(axis=0), K)
            assert row.seed_fraction == pytest.approx(np.mean(per_model))
            assert row.model_fraction == pytest.approx(in_model_top / len(models))
            assert row.wilcoxon_logfc == rankings.layers[keys.LOGFOLDCHANGES][c, gene_index]
            assert row.wilcoxon_pval_adj == rankings.layers[keys.PVALS_ADJ][c, gene_index]
            assert row.informative == truth[c, gene_index]
    # the missing class of one run lowers its count
    assert set(table.loc[table["class"] == "C2", "n_runs"]) == {4}


def _curve_value(curves, run, curve: str, n_genes: int, column: str = "value") -> float:
    for table in curves:
        if tuple(table[["method", "model", "seed"]].iloc[0]) == run:
            row = table[(table["curve"] == curve) & (table["n_genes"] == n_genes)]
            return float(row[column].iloc[0])
    raise AssertionError(run)


def test_verdict_figures_match_plain_computation(inputs, result):
    prepared, scores, curves, _ = inputs
    classes = _classes(prepared)
    n_genes = prepared.n_vars
    truth = class_informative(np.asarray(prepared.varm[keys.INFORMATIVE]), n_classes=3)
    verdict = result.verdict
    assert list(verdict.columns) == list(keys.VERDICT_COLUMNS)
    assert list(verdict["method"]) == [IG] * 3 + ["saliency"] * 3
    assert list(verdict["class"]) == classes * 2
    assert set(verdict["k"]) == {K}
    for row in verdict.itertuples():
        held = [(m, s) for m, s, _ in _held(scores, row.method, row[3])]
        runs = [(row.method, m, s) for m, s in held]
        assert row.n_runs == len(runs)
        n_examples = [a.obs.loc[row[3], keys.N_EXAMPLES] for a in scores if _run(a) in runs]
        assert row.n_examples == pytest.approx(np.mean(n_examples))
        keep = [_curve_value(curves, r, f"class_keep_best:{row[3]}", K) for r in runs]
        assert row.keep_accuracy == pytest.approx(np.mean(keep))
        assert row.keep_accuracy_std == pytest.approx(np.std(keep))
        remove = [
            100 - _curve_value(curves, r, f"class_remove_best:{row[3]}", n_genes - K) for r in runs
        ]
        assert row.remove_drop == pytest.approx(np.mean(remove))
        assert row.remove_drop_std == pytest.approx(np.std(remove))
        # Each run's draws as two points mean ± std (population std = std): pooled std.
        draws = []
        for r in runs:
            curve = f"class_random_removed:{row[3]}"
            mean = 100 - _curve_value(curves, r, curve, n_genes - K)
            std = _curve_value(curves, r, curve, n_genes - K, "std")
            draws += [mean - std, mean + std]
        assert row.random_drop == pytest.approx(np.mean(draws))
        assert row.random_drop_std == pytest.approx(np.std(draws))
        first = []
        for r in runs:
            table = next(t for t in curves if tuple(t[["method", "model", "seed"]].iloc[0]) == r)
            keep_rows = table[table["curve"] == f"class_keep_best:{row[3]}"]
            first.append(keep_rows.loc[keep_rows["value"] >= 95, "n_genes"].min())
        assert row.sufficient_k == pytest.approx(np.median(first))
        # stability: mean over models with 2+ seeds of the mean pairwise Jaccard
        tops = {
            (m, s): set(np.flatnonzero(_plain_rank(v) <= K))
            for m, s, v in _held(scores, row.method, row[3])
        }
        per_model = []
        for model in sorted({m for m, _ in held}):
            sets = [tops[(m, s)] for m, s in held if m == model]
            if len(sets) > 1:
                per_model.append(
                    np.mean([len(a & b) / len(a | b) for a, b in itertools.combinations(sets, 2)])
                )
        if per_model:
            assert row.stability == pytest.approx(np.mean(per_model))
        else:
            assert np.isnan(row.stability)
            assert pd.isna(row.stable)
        c = classes.index(row[3])
        ranks = np.array([_plain_rank(v) for _, _, v in _held(scores, row.method, row[3])])
        consensus = _top(ranks.mean(axis=0), K)
        assert row.precision == pytest.approx(100 * truth[c, consensus].mean())


def test_pathway_agreement_of_the_verdict(inputs, result):
    prepared, scores, _, _ = inputs
    simulate = prepared.uns[keys.UNS][keys.SIMULATE]
    members = np.asarray(simulate[keys.PATHWAY_GENES].todense(), dtype=bool)
    over = np.asarray(simulate[keys.OVER_PATHWAYS])
    for row in result.verdict.itertuples():
        c = _classes(prepared).index(row[3])
        mean = np.mean([v for _, _, v in _held(scores, row.method, row[3])], axis=0)
        set_means = np.array([mean[m].mean() for m in members])
        best = sorted(range(len(members)), key=lambda p: (-set_means[p], p))[: over.shape[1]]
        assert row.pathway_agreement == pytest.approx(100 * len(set(best) & set(over[c])) / 2)


@pytest.mark.parametrize(
    ("flags", "want"),
    [
        ((True, True, True, True), "sufficient and necessary; stable across seeds; true markers"),
        (
            (True, False, False, None),
            "sufficient but not necessary (redundant genes carry the signal); "
            "unstable across seeds",
        ),
        (
            (False, True, None, False),
            "necessary but not sufficient; stability unknown (fewer than 2 seeds); "
            "not true markers",
        ),
        ((False, False, True, None), "neither sufficient nor necessary; stable across seeds"),
    ],
)
def test_verdict_vocabulary(flags, want):
    sufficient, necessary, stable, true = flags
    text = verdict_text(
        sufficient=sufficient,
        necessary=necessary,
        stable=stable,
        true=true,
        no_better_than_random=False,
    )
    assert text == want


def _set_curves(values):
    """Inputs whose IG runs have the given class_* values for class C0."""
    return make_inputs({run: {"C0": values} for run in RUNS if run[0] == IG})


@pytest.fixture(scope="module")
def fixed(inputs):
    """IG / C0: keep 95 % at k, remove_drop 30, random_drop 20 (exactly)."""
    _, scores, _, rankings = inputs
    prepared, _, curves, _ = _set_curves({"keep": 95.0, "remove": 70.0, "random": 80.0})
    return prepared, scores, curves, rankings


def _row(inputs, **thresholds):
    prepared, scores, curves, rankings = inputs
    out = biomarkers(
        prepared,
        scores,
        curves,
        rankings,
        dataset=DATASET,
        top_k=K,
        thresholds=Thresholds(**thresholds),
    )
    verdict = out.verdict
    return verdict[(verdict["method"] == IG) & (verdict["class"] == "C0")].iloc[0]


def test_verdict_booleans_flip_at_the_thresholds(fixed):
    row = _row(fixed)
    assert (row.keep_accuracy, row.remove_drop, row.random_drop) == (95.0, 30.0, 20.0)
    assert row.sufficient
    assert row.necessary
    above = np.nextafter
    assert not _row(fixed, sufficiency=above(95.0, 100)).sufficient
    assert not _row(fixed, necessity_margin=above(10.0, 11)).necessary
    assert _row(fixed, stability=row.stability).stable
    assert not _row(fixed, stability=above(row.stability, 1)).stable
    assert _row(fixed, truth=row.precision).true
    assert not _row(fixed, truth=above(row.precision, 101)).true
    assert _row(fixed, stability=0.0, truth=0.0).verdict == (
        "sufficient and necessary; stable across seeds; true markers"
    )


def test_no_better_than_random(inputs):
    _, scores, _, rankings = inputs
    prepared, _, curves, _ = _set_curves({"keep": 40.0, "remove": 95.0, "random": 90.0})
    row = _row((prepared, scores, curves, rankings))
    assert not row.sufficient
    assert not row.necessary
    assert row.verdict.startswith("no better than random; ")


def test_sufficient_k_is_the_median_with_never_as_infinity(inputs):
    prepared, scores, curves, rankings = inputs
    never = {("saliency", "LR", 0), (IG, "LR", 0), (IG, "LR", 1)}
    changed = []
    for table in curves:
        table = table.copy()
        run = tuple(table[["method", "model", "seed"]].iloc[0])
        if run in never:
            table.loc[table["curve"] == "class_keep_best:C0", "value"] = 50.0
        changed.append(table)
    out = biomarkers(prepared, scores, changed, rankings, dataset=DATASET, top_k=K)
    verdict = out.verdict.set_index(["method", "class"])
    # saliency: one of 2 runs never reaches 95 %: the median is +inf, so NA
    assert np.isnan(verdict.loc[("saliency", "C0"), "sufficient_k"])
    # IG: 2 of 5 never: the median is the largest of the 3 others
    reached = []
    for table in curves:
        run = tuple(table[["method", "model", "seed"]].iloc[0])
        if run[0] == IG and run not in never:
            rows = table[table["curve"] == "class_keep_best:C0"]
            reached.append(rows.loc[rows["value"] >= 95, "n_genes"].min())
    assert verdict.loc[(IG, "C0"), "sufficient_k"] == max(reached)


def test_pathway_table_matches_plain_computation(inputs, result):
    prepared, scores, _, _ = inputs
    classes = _classes(prepared)
    simulate = prepared.uns[keys.UNS][keys.SIMULATE]
    members = np.asarray(simulate[keys.PATHWAY_GENES].todense(), dtype=bool)
    over = np.asarray(simulate[keys.OVER_PATHWAYS])
    table = result.pathways
    assert list(table.columns) == [*keys.PATHWAY_COLUMNS, keys.OVER_EXPRESSED]
    # 2 methods: IG (LR: 3 classes, MLP: 3) and saliency (LR 3, MLP 3); 6 sets
    assert len(table) == 4 * 3 * 6
    n_genes = prepared.n_vars
    for (method, model, cls), block in table.groupby(["method", "model", "class"], sort=False):
        held = _held(scores, method, cls, model)
        mean = np.mean([v for _, _, v in held], axis=0)
        ranks = np.array([_plain_rank(v) for _, _, v in held])
        top = np.zeros(n_genes, dtype=bool)
        top[_top(ranks.mean(axis=0), K)] = True
        assert list(block["gene_set"]) == [f"P{p:03d}" for p in range(6)]
        np.testing.assert_array_equal(block["set_size"], members.sum(axis=1))
        np.testing.assert_array_equal(block["n_not_found"], 0)
        np.testing.assert_array_equal(block["n_top"], (members & top).sum(axis=1))
        np.testing.assert_allclose(block["score_sum"], [mean[m].sum() for m in members])
        np.testing.assert_allclose(block["score_mean"], [mean[m].mean() for m in members])
        x = (members & top).sum(axis=1)
        p = scipy.stats.hypergeom.sf(x - 1, n_genes, members.sum(axis=1), K)
        np.testing.assert_allclose(block["p_value"], p)
        np.testing.assert_allclose(block["p_adj"], scipy.stats.false_discovery_control(p))
        order = sorted(range(6), key=lambda s: (-block["score_mean"].iloc[s], s))
        np.testing.assert_array_equal(block["rank"].to_numpy()[order], np.arange(1, 7))
        c = classes.index(cls)
        np.testing.assert_array_equal(block[keys.OVER_EXPRESSED], np.isin(np.arange(6), over[c]))


def test_gmt_gene_sets(inputs, tmp_path, caplog):
    prepared, scores, curves, rankings = inputs
    genes = list(prepared.var_names)
    path = tmp_path / "sets.gmt"
    path.write_text(
        f"A\tfirst\t{genes[0]}\t{genes[1]}\tNOT_A_GENE\n"
        f"B\t\t{genes[2]}\tMISSING1\tMISSING2\n"
        f"C\t\t{genes[3]}\n"
    )
    with caplog.at_level(logging.WARNING, logger="genexai.biomarkers"):
        out = biomarkers(
            prepared,
            scores,
            curves,
            rankings,
            dataset=DATASET,
            top_k=K,
            gene_sets=io.read_gmt(path),
        )
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "3 gene(s) of 2 of the 3 gene sets" in warnings[0].getMessage()
    table = out.pathways
    assert list(table.columns) == list(keys.PATHWAY_COLUMNS)
    first = table.iloc[:3]
    assert list(first["gene_set"]) == ["A", "B", "C"]
    assert list(first["set_size"]) == [3, 3, 1]
    assert list(first["n_not_found"]) == [1, 2, 0]
    assert out.verdict["pathway_agreement"].isna().all()


def test_without_truth_or_gene_sets(inputs):
    prepared, scores, curves, rankings = inputs
    plain = prepared.copy()
    del plain.varm[keys.INFORMATIVE]
    del plain.uns[keys.UNS][keys.SIMULATE]
    out = biomarkers(plain, scores, curves, rankings, dataset=DATASET, top_k=K)
    assert list(out.biomarkers.columns) == list(keys.BIOMARKER_COLUMNS)
    assert out.pathways.empty
    assert list(out.pathways.columns) == list(keys.PATHWAY_COLUMNS)
    assert out.verdict["precision"].isna().all()
    assert out.verdict["true"].isna().all()
    assert out.verdict["pathway_agreement"].isna().all()
    assert not out.verdict["verdict"].str.contains("true markers").any()


def _without(inputs, **change):
    prepared, scores, curves, rankings = inputs
    args = {"prepared": prepared, "scores": scores, "curves": curves, "rankings": rankings}
    args.update(change)
    return args


def _other_dataset(scores):
    other = scores[0].copy()
    other.uns[keys.UNS][keys.EVALUATE] = {
        **other.uns[keys.UNS][keys.EVALUATE],
        keys.DATASET: "other",
    }
    return [other, *scores[1:]]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("primary", "--primary-method: 'deeplift' has no gene scores; found methods"),
        ("dataset", "gene_scores[0]: dataset 'other', expected 'bio' (--dataset)"),
        ("duplicate", "two inputs hold method 'integrated_gradients' model 'LR' seed 0"),
        ("no_curves", "--curves: no class_keep_best:C0 rows for method 'integrated_gradients'"),
        (
            "curves_k",
            (
                "class_random_removed:C0 of method 'integrated_gradients' model 'LR' seed 0 "
                "has no point at n_genes 54; expected EVALUATE run with --biomarker-k 6"
            ),
        ),
        ("top_k", "--top-k: 0; expected at least 1, on at least 2 genes (found 60)"),
        ("rankings", "--rankings: method 't_test', expected the wilcoxon rankings"),
        ("classes", "--rankings: classes ['C2', 'C1', 'C0'], expected the prepared classes"),
        ("genes", "gene_scores[1]: genes do not match the prepared data"),
        ("none", "--gene-scores: no gene scores"),
        ("empty", "gene_scores[0]: no class; expected the scores of at least one"),
        ("not_a_number", "curves[0]: seed, n_genes, value or std is not a number"),
    ],
)
def test_refusals(inputs, case, message):
    prepared, scores, curves, rankings = inputs
    options = {"dataset": DATASET, "top_k": K}
    if case == "primary":
        options["primary_method"] = "deeplift"
    elif case == "dataset":
        scores = _other_dataset(scores)
    elif case == "duplicate":
        scores = [*scores, scores[0]]
    elif case == "no_curves":
        curves = curves[1:]
    elif case == "curves_k":
        options["top_k"] = 6
    elif case == "top_k":
        options["top_k"] = 0
    elif case == "rankings":
        rankings = rankings.copy()
        rankings.uns[keys.UNS][keys.RANK_GENES][keys.METHOD] = "t_test"
    elif case == "classes":
        rankings = rankings[::-1].copy()
    elif case == "genes":
        scores = [scores[0], scores[1][:, 1:].copy(), *scores[2:]]
    elif case == "none":
        scores = []
    elif case == "empty":
        scores = [scores[0][:0].copy(), *scores[1:]]
    elif case == "not_a_number":
        curves = [curves[0].assign(seed="x"), *curves[1:]]
    with pytest.raises(InputError) as error:
        biomarkers(prepared, scores, curves, rankings, **options)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_read_annotations_never_reads_x(inputs, tmp_path):
    prepared = inputs[0]
    path = tmp_path / "prepared.h5ad"
    io.write_h5ad(prepared, path)
    with h5py.File(path, "r+") as f:
        del f["X"]
        f["X"] = np.zeros(3)  # not a matrix: a read of X would fail
    adata = io.read_annotations(path)
    assert adata.X is None
    assert adata.shape == prepared.shape
    assert list(adata.var_names) == list(prepared.var_names)
    assert io.class_names(adata, where="x") == _classes(prepared)
    assert list(adata.obs.columns) == [keys.LABEL, keys.SUBCLASS]
    pd.testing.assert_frame_equal(adata.varm[keys.INFORMATIVE], prepared.varm[keys.INFORMATIVE])
    simulate = adata.uns[keys.UNS][keys.SIMULATE]
    want = prepared.uns[keys.UNS][keys.SIMULATE]
    assert (simulate[keys.PATHWAY_GENES] != want[keys.PATHWAY_GENES]).nnz == 0
    # the result is the step's input
    out = biomarkers(adata, *inputs[1:], dataset=DATASET, top_k=K)
    pd.testing.assert_frame_equal(
        out.pathways, biomarkers(*inputs, dataset=DATASET, top_k=K).pathways
    )


def test_read_annotations_refuses_a_non_anndata_file(tmp_path):
    path = tmp_path / "x.h5ad"
    with h5py.File(path, "w") as f:
        f["X"] = np.zeros((2, 2))
    with pytest.raises(InputError, match="not an AnnData file \\(no 'obs' group\\)"):
        io.read_annotations(path)


def test_real_evaluate_outputs_are_read(inputs):
    """TRAIN, ATTRIBUTE and EVALUATE (real, small) of two LR seeds: the step takes
    their gene scores and curves, and its figures are their class curves at k."""
    import genexai as gx
    from genexai.train import DEFAULTS

    prepared, _, _, rankings = inputs
    short = dataclasses.replace(DEFAULTS, epochs=3, milestones=(2,))
    scores, curves = [], []
    for seed in (0, 1):
        model = gx.train(prepared, arch="LR", seed=seed, device="cpu", schedule=short).model
        att = gx.attribute(prepared, model, n_steps=32, device="cpu")
        run = gx.evaluate(
            prepared,
            model,
            att,
            dataset=DATASET,
            n_random=1,
            curve_random=2,
            openxai_samples=1,
            openxai_k=5,
            top_n=5,
            biomarker_k=K,
        )
        scores.append(run.gene_scores)
        curves.append(run.curves)
    out = biomarkers(prepared, scores, curves, rankings, dataset=DATASET, top_k=K)
    assert set(out.verdict["method"]) == {IG}
    assert set(out.verdict["n_runs"]) == {2}
    for row in out.verdict.itertuples():
        keep = [_curve_value(curves, (IG, "LR", s), f"class_keep_best:{row[3]}", K) for s in (0, 1)]
        assert row.keep_accuracy == pytest.approx(np.mean(keep))
        assert 0 <= row.stability <= 1
    assert len(out.pathways) == 3 * 6
