include { batchRuns; extArgs; shellWords } from '../../../subworkflows/local/utils_genexai'

process EVALUATE {
    tag "${meta.id}"
    label 'process_low'
    container "${params.container_registry}/genexai-cpu:${workflow.manifest.version}"

    input:
    tuple val(meta), path(prepared), path(models), path(attributions), path(graph)   // one checkpoint and attributions file per seed, in the order of meta.seeds; graph: [] without diffusion
    val(src_digest)

    output:
    tuple val(meta), path("${prefix}.*.metrics.tsv")     , emit: metrics
    tuple val(meta), path("${prefix}.*.curves.tsv")      , emit: curves
    tuple val(meta), path("${prefix}.*.top_genes.tsv")   , emit: top_genes
    tuple val(meta), path("${prefix}.*.completeness.tsv"), emit: completeness
    tuple val(meta), path("${prefix}.*.gene_scores.h5ad"), emit: gene_scores   // STABILITY's input
    path "versions.yml"                                  , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = extArgs(task.ext.args)
    prefix = task.ext.prefix ?: "${meta.dataset}.${meta.model}.${meta.method}"
    def graph_arg = graph ? ['--graph', graph] : []
    // One run per seed, in one Python process (see genexai.batch).
    def model_files = [models].flatten()               // both in the order of meta.seeds
    def attribution_files = [attributions].flatten()
    def runs = meta.seeds.withIndex().collect { seed, i ->
        ['--attributions', attribution_files[i].name, '--model', model_files[i].name, '--input', prepared,
         graph_arg, '--dataset', meta.dataset, '--seed', seed, '--threads', task.cpus,
         '--output', "${prefix}.${seed}.metrics.tsv", '--curves', "${prefix}.${seed}.curves.tsv",
         '--top-genes', "${prefix}.${seed}.top_genes.tsv",
         '--completeness', "${prefix}.${seed}.completeness.tsv", '--gene-scores', "${prefix}.${seed}.gene_scores.h5ad", args]
    }
    """
    python3 -m genexai.batch evaluate.py ${batchRuns(runs)}

    python3 -m genexai.versions "${task.process}" torch scipy scikit-learn > versions.yml
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.dataset}.${meta.model}.${meta.method}"
    def files = meta.seeds.collect { seed ->
        ["${prefix}.${seed}.metrics.tsv", "${prefix}.${seed}.curves.tsv", "${prefix}.${seed}.top_genes.tsv",
         "${prefix}.${seed}.completeness.tsv", "${prefix}.${seed}.gene_scores.h5ad"]
    }
    """
    touch ${shellWords(files)}
    python3 -m genexai.versions "${task.process}" torch scipy scikit-learn > versions.yml
    """
}
