process ATTRIBUTE {
    tag "${meta.id}"
    label 'process_gpu'
    container "${ task.ext.use_gpu ? 'genexai/cuda:0.1.0' : 'genexai/cpu:0.1.0' }"

    input:
    tuple val(meta), path(prepared), path(model)
    val(src_digest)

    output:
    tuple val(meta), path("${prefix}.attributions.h5ad"), emit: attributions
    path "versions.yml"                                  , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    def device = task.ext.use_gpu ? 'cuda' : 'cpu'
    """
    attribute.py \\
        --input '${prepared}' \\
        --model '${model}' \\
        --seed ${meta.seed} \\
        --device ${device} \\
        --threads ${task.cpus} \\
        --output '${prefix}.attributions.h5ad' \\
        ${args}

    python3 -m genexai.versions "${task.process}" torch captum anndata > versions.yml
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch '${prefix}.attributions.h5ad'
    python3 -m genexai.versions "${task.process}" torch captum anndata > versions.yml
    """
}
