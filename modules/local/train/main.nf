include { batchRuns; extArgs; shellWords } from '../../../subworkflows/local/utils_genexai'

process TRAIN {
    tag "${meta.id}"
    label 'process_gpu'
    container "${params.container_registry}/genexai-${ task.ext.use_gpu ? 'cuda' : 'cpu' }:${workflow.manifest.version}"

    input:
    tuple val(meta), path(prepared), path(graph)   // graph: [] for models without diffusion
    val(src_digest)

    output:
    tuple val(meta), path("${prefix}.*.pt")        , emit: model     // one per seed in meta.seeds
    tuple val(meta), path("${prefix}.*.train.json"), emit: metrics
    path "versions.yml"                            , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = extArgs(task.ext.args)
    prefix = task.ext.prefix ?: "${meta.dataset}.${meta.model}"
    def graph_arg = graph ? ['--graph', graph] : []
    def device = task.ext.use_gpu ? 'cuda' : 'cpu'
    // One run per seed, in one Python process (see genexai.batch).
    def runs = meta.seeds.collect { seed ->
        ['--input', prepared, '--model', meta.model, '--seed', seed, graph_arg,
         '--device', device, '--threads', task.cpus,
         '--output', "${prefix}.${seed}.pt", '--metrics', "${prefix}.${seed}.train.json",
         '--dataset', meta.dataset, args]
    }
    """
    python3 -m genexai.batch train.py ${batchRuns(runs)}

    python3 -m genexai.versions "${task.process}" torch anndata scikit-learn > versions.yml
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.dataset}.${meta.model}"
    def files = meta.seeds.collect { seed -> ["${prefix}.${seed}.pt", "${prefix}.${seed}.train.json"] }
    """
    touch ${shellWords(files)}
    python3 -m genexai.versions "${task.process}" torch anndata scikit-learn > versions.yml
    """
}
