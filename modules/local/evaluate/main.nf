process EVALUATE {
    tag "${meta.id}"
    label 'process_low'
    container 'genexai/cpu:0.1.0'

    input:
    tuple val(meta), path(prepared), path(model), path(attributions), path(graph)   // graph: [] without diffusion
    val(src_digest)

    output:
    tuple val(meta), path("${prefix}.metrics.tsv")  , emit: metrics
    tuple val(meta), path("${prefix}.curves.tsv")   , emit: curves
    tuple val(meta), path("${prefix}.top_genes.tsv"), emit: top_genes
    path "versions.yml"                             , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    def graph_arg = graph ? "--graph '${graph}'" : ''
    """
    evaluate.py \\
        --attributions '${attributions}' \\
        --model '${model}' \\
        --input '${prepared}' \\
        ${graph_arg} \\
        --dataset '${meta.dataset}' \\
        --seed ${meta.seed} \\
        --threads ${task.cpus} \\
        --output '${prefix}.metrics.tsv' \\
        --curves '${prefix}.curves.tsv' \\
        --top-genes '${prefix}.top_genes.tsv' \\
        ${args}

    python3 -m genexai.versions "${task.process}" torch scipy scikit-learn > versions.yml
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch '${prefix}.metrics.tsv' '${prefix}.curves.tsv' '${prefix}.top_genes.tsv'
    python3 -m genexai.versions "${task.process}" torch scipy scikit-learn > versions.yml
    """
}
