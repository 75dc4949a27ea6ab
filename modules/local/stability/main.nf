include { extArgs; shellWords } from '../../../subworkflows/local/utils_genexai'

process STABILITY {
    tag "${meta.id}"
    label 'process_single'
    container "${params.container_registry}/genexai-cpu:${workflow.manifest.version}"

    input:
    tuple val(meta), path(gene_scores, stageAs: 'gene_scores/*')   // EVALUATE's, every model and seed of one dataset
    val(src_digest)

    output:
    tuple val(meta), path("${prefix}.stability.tsv")        , emit: stability
    tuple val(meta), path("${prefix}.stability_summary.tsv"), emit: summary
    path "versions.yml"                                     , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    stability.py ${shellWords([
        gene_scores.collect { ['--input', it] },
        '--output', "${prefix}.stability.tsv",
        '--summary', "${prefix}.stability_summary.tsv",
    ] + extArgs(task.ext.args))}

    python3 -m genexai.versions "${task.process}" scipy anndata > versions.yml
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${shellWords(["${prefix}.stability.tsv", "${prefix}.stability_summary.tsv"])}
    python3 -m genexai.versions "${task.process}" scipy anndata > versions.yml
    """
}
