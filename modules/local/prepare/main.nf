process PREPARE {
    tag "${meta.id}"
    label 'process_medium'
    container 'genexai/cpu:0.1.0'

    input:
    tuple val(meta), path(h5ad)
    val(src_digest)

    output:
    tuple val(meta), path("${prefix}.prepared.h5ad"), emit: h5ad
    path "versions.yml"                             , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    prepare.py \\
        --input '${h5ad}' \\
        --output '${prefix}.prepared.h5ad' \\
        ${args}

    python3 -m genexai.versions "${task.process}" numpy scikit-learn anndata > versions.yml
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch '${prefix}.prepared.h5ad'
    python3 -m genexai.versions "${task.process}" numpy scikit-learn anndata > versions.yml
    """
}
