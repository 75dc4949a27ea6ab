process STABILITY {
    tag "${meta.id}"
    label 'process_single'
    container 'genexai/cpu:0.1.0'

    input:
    tuple val(meta), path(attributions, stageAs: 'attributions/*')   // every model and seed of one dataset
    val(src_digest)

    output:
    tuple val(meta), path("${prefix}.stability.tsv"), emit: stability
    path "versions.yml"                             , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    def inputs = attributions.collect { "--input '${it}'" }.join(' ')
    """
    stability.py \\
        ${inputs} \\
        --dataset '${meta.id}' \\
        --output '${prefix}.stability.tsv' \\
        ${args}

    python3 -m genexai.versions "${task.process}" scipy anndata > versions.yml
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch '${prefix}.stability.tsv'
    python3 -m genexai.versions "${task.process}" scipy anndata > versions.yml
    """
}
