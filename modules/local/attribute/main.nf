include { batchRuns; extArgs; shellWords } from '../../../subworkflows/local/utils_genexai'

process ATTRIBUTE {
    tag "${meta.id}"
    label 'process_gpu'
    container "${params.container_registry}/genexai-${ task.ext.use_gpu ? 'cuda' : 'cpu' }:${workflow.manifest.version}"

    input:
    tuple val(meta), path(prepared), path(models), path(rankings)   // one checkpoint per seed, in the order of meta.seeds; rankings: RANK_GENES' file for a classical ranking (meta.method), else []
    val(src_digest)

    output:
    tuple val(meta), path("${prefix}.*.attributions.h5ad"), emit: attributions
    path "versions.yml"                                    , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = extArgs(task.ext.args)
    prefix = task.ext.prefix ?: "${meta.dataset}.${meta.model}.${meta.method}"
    def rankings_arg = rankings ? ['--rankings', rankings] : []
    def device = task.ext.use_gpu ? 'cuda' : 'cpu'
    // One run per seed, in one Python process (see genexai.batch).
    def model_files = [models].flatten()   // in the order of meta.seeds
    def runs = meta.seeds.withIndex().collect { seed, i ->
        ['--input', prepared, '--model', model_files[i].name, '--seed', seed,
         rankings_arg, '--device', device, '--threads', task.cpus, '--output', "${prefix}.${seed}.attributions.h5ad", args]
    }
    """
    python3 -m genexai.batch attribute.py ${batchRuns(runs)}

    python3 -m genexai.versions "${task.process}" torch captum anndata > versions.yml
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.dataset}.${meta.model}.${meta.method}"
    def files = meta.seeds.collect { seed -> "${prefix}.${seed}.attributions.h5ad" }
    """
    touch ${shellWords(files)}
    python3 -m genexai.versions "${task.process}" torch captum anndata > versions.yml
    """
}
