include { extArgs; shellWords } from '../../../subworkflows/local/utils_genexai'

process RANK_GENES {
    tag "${meta.id}.${method}"
    // mutual_info costs ~10 ms of CPU per gene and class at 2,000 samples; it runs on task.cpus
    label 'process_medium'
    container "${params.container_registry}/genexai-cpu:${workflow.manifest.version}"

    input:
    tuple val(meta), path(prepared), val(method)   // method: wilcoxon, t_test or mutual_info
    val(src_digest)

    output:
    tuple val(meta), val(method), path("${prefix}.${method}.rankings.h5ad"), emit: rankings
    path "versions.yml"                                                  , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    rank_genes.py ${shellWords([
        '--input', prepared,
        '--method', method,
        '--dataset', meta.id,
        '--threads', task.cpus,
        '--output', "${prefix}.${method}.rankings.h5ad",
    ] + extArgs(task.ext.args))}

    python3 -m genexai.versions "${task.process}" scanpy scikit-learn anndata > versions.yml
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${shellWords(["${prefix}.${method}.rankings.h5ad"])}
    python3 -m genexai.versions "${task.process}" scanpy scikit-learn anndata > versions.yml
    """
}
