process TRAIN {
    tag "${meta.id}"
    label 'process_gpu'
    container "${ task.ext.use_gpu ? 'genexai/cuda:0.1.0' : 'genexai/cpu:0.1.0' }"

    input:
    tuple val(meta), path(prepared), path(graph)   // graph: [] for models without diffusion
    val(src_digest)

    output:
    tuple val(meta), path("${prefix}.pt")        , emit: model
    tuple val(meta), path("${prefix}.train.json"), emit: metrics
    path "versions.yml"                          , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    def graph_arg = graph ? "--graph '${graph}'" : ''
    def device = task.ext.use_gpu ? 'cuda' : 'cpu'
    """
    train.py \\
        --input '${prepared}' \\
        --model '${meta.model}' \\
        --seed ${meta.seed} \\
        ${graph_arg} \\
        --device ${device} \\
        --threads ${task.cpus} \\
        --output '${prefix}.pt' \\
        --metrics '${prefix}.train.json' \\
        ${args}

    python3 -m genexai.versions "${task.process}" torch anndata scikit-learn > versions.yml
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch '${prefix}.pt' '${prefix}.train.json'
    python3 -m genexai.versions "${task.process}" torch anndata scikit-learn > versions.yml
    """
}
