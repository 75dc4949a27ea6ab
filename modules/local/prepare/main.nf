include { extArgs; shellWords } from '../../../subworkflows/local/utils_genexai'

process PREPARE {
    tag "${meta.id}"
    label 'process_medium'
    container "${params.container_registry}/genexai-cpu:${workflow.manifest.version}"

    input:
    tuple val(meta), path(h5ad)
    val(src_digest)

    output:
    tuple val(meta), path("${prefix}.prepared.h5ad"), emit: h5ad
    tuple val(meta), path("${prefix}.prepare.tsv")  , emit: summary    // samples per class and split, for REPORT
    path "versions.yml"                             , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    prepare.py ${shellWords([
        '--input', h5ad,
        '--output', "${prefix}.prepared.h5ad",
        '--summary', "${prefix}.prepare.tsv", '--dataset', meta.id,
    ] + extArgs(task.ext.args))}

    python3 -m genexai.versions "${task.process}" numpy scikit-learn anndata > versions.yml
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${shellWords(["${prefix}.prepared.h5ad", "${prefix}.prepare.tsv"])}
    python3 -m genexai.versions "${task.process}" numpy scikit-learn anndata > versions.yml
    """
}
