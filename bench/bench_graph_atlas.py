"""Benchmark: GRAPH on a single-cell-atlas-shaped sparse input (issue 18).

Builds (once, in ``--workdir``) a prepared ``.h5ad`` with a sparse CSR ``X``
of ``--n-cells`` × ``--n-genes`` at ``--density`` (default 200,000 × 20,000
at 5 %: 2×10^8 non-zeros, uniform values in [0, 1), built with
``scipy.sparse.random`` a chunk of rows at a time, seeded), 80 % of the
cells in the training split; then runs ``bin/graph.py`` on it under
``/usr/bin/time -v`` and prints the wall time, the peak RSS and the edges.
The step correlates a seeded subsample of ``--max-cells`` training cells,
so its dense working set is ``max_cells × n_genes`` float32 whatever
``n_cells``; the rest of its RSS is the file's arrays (non-zeros).

Usage::

    python bench/bench_graph_atlas.py [--n-cells 200000] [--n-genes 20000] \\
        [--density 0.05] [--max-cells 20000] [--threads 2] [--workdir /tmp/graph_atlas]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse

from genexai import keys
from genexai.graph import load_graph

CHUNK_ROWS = 10_000


def build(path: Path, n_cells: int, n_genes: int, density: float, seed: int) -> None:
    """Write the sparse prepared file, a chunk of rows at a time (seeded per chunk)."""
    chunks = []
    for i, start in enumerate(range(0, n_cells, CHUNK_ROWS)):
        rows = min(CHUNK_ROWS, n_cells - start)
        chunks.append(
            scipy.sparse.random(
                rows, n_genes, density=density, format="csr", dtype=np.float32, rng=seed + i
            )
        )
    x = scipy.sparse.vstack(chunks, format="csr")
    del chunks
    split = np.where(np.random.default_rng(seed).random(n_cells) < 0.8, keys.TRAIN, "test")
    obs = pd.DataFrame(
        {keys.SPLIT: pd.Categorical(split)}, index=[f"cell{i:07d}" for i in range(n_cells)]
    )
    var = pd.DataFrame(index=[f"G{g:05d}" for g in range(n_genes)])
    # Uncompressed: the benchmark times GRAPH, not LZF.
    ad.AnnData(X=x, obs=obs, var=var).write_h5ad(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-cells", type=int, default=200_000)
    parser.add_argument("--n-genes", type=int, default=20_000)
    parser.add_argument("--density", type=float, default=0.05)
    parser.add_argument("--max-cells", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/graph_atlas"))
    args = parser.parse_args()

    args.workdir.mkdir(parents=True, exist_ok=True)
    data = args.workdir / f"atlas_{args.n_cells}x{args.n_genes}_{args.density}.h5ad"
    if not data.exists():
        build(data, args.n_cells, args.n_genes, args.density, args.seed)
    out = args.workdir / "atlas.graph.npz"
    script = Path(__file__).resolve().parent.parent / "bin" / "graph.py"
    command = [
        "/usr/bin/time",
        "-v",
        sys.executable,
        str(script),
        "--input",
        str(data),
        "--output",
        str(out),
        "--max-cells",
        str(args.max_cells),
        "--threads",
        str(args.threads),
    ]
    env = {**os.environ, "GENEXAI_PROGRESS": "0"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        sys.exit(result.stderr)
    wall = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", result.stderr).group(1)
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr).group(1))
    graph = load_graph(out)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print(f"input: {data} ({data.stat().st_size / 2**30:.2f} GiB on disk)")
    print(
        f"cells {args.n_cells}, genes {args.n_genes}, density {args.density}, "
        f"max_cells {args.max_cells}, threads {args.threads}"
    )
    print(f"wall {wall}, peak RSS {rss_kb / 2**20:.2f} GiB")
    print(f"edges (off-diagonal, both halves): {graph.adj.nnz - args.n_genes}")


if __name__ == "__main__":
    main()
