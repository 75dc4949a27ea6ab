include { extArgs; shellWords } from '../../../subworkflows/local/utils_genexai'

process GRAPH {
    tag "${meta.id}"
    label 'process_medium'
    container "${params.container_registry}/genexai-cpu:${workflow.manifest.version}"

    input:
    tuple val(meta), path(prepared)
    val(src_digest)

    output:
    tuple val(meta), path("${prefix}.graph.npz"), emit: graph
    path "versions.yml"                         , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    graph.py ${shellWords([
        '--input', prepared,
        '--output', "${prefix}.graph.npz",
        '--threads', task.cpus,
    ] + extArgs(task.ext.args))}

    python3 -m genexai.versions "${task.process}" numpy scipy > versions.yml
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${shellWords(["${prefix}.graph.npz"])}
    python3 -m genexai.versions "${task.process}" numpy scipy > versions.yml
    """
}
