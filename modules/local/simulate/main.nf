include { extArgs; shellWords } from '../../../subworkflows/local/utils_genexai'

process SIMULATE {
    tag "${meta.id}"
    label 'process_single'
    container "${params.container_registry}/genexai-cpu:${workflow.manifest.version}"

    input:
    val(meta)           // [id: dataset name, config: simulator configuration]
    val(src_digest)     // digest of the genexai package source: invalidates the cache when it changes

    output:
    tuple val(meta), path("${prefix}.simulated.h5ad"), emit: h5ad
    path "versions.yml"                              , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    simulate.py ${shellWords([
        '--config', meta.config,
        '--output', "${prefix}.simulated.h5ad",
        '--threads', task.cpus,
    ] + extArgs(task.ext.args))}

    python3 -m genexai.versions "${task.process}" numpy scipy anndata > versions.yml
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${shellWords(["${prefix}.simulated.h5ad"])}
    python3 -m genexai.versions "${task.process}" numpy scipy anndata > versions.yml
    """
}
