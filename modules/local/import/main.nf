include { extArgs; shellWords } from '../../../subworkflows/local/utils_genexai'

process IMPORT {
    tag "${meta.id}"
    label 'process_medium'
    container 'genexai/cpu:0.1.0'

    input:
    // User files are staged under fixed names, so no file name ever reaches the shell.
    tuple val(meta), path(data, stageAs: 'input.data'), path(labels, stageAs: 'labels.data')
    val(src_digest)

    output:
    tuple val(meta), path("${prefix}.imported.h5ad"), emit: h5ad
    path "versions.yml"                             , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    import_data.py ${shellWords([
        '--input', 'input.data',
        '--format', meta.format,
        labels ? ['--labels', 'labels.data'] : [],
        '--output', "${prefix}.imported.h5ad",
    ] + extArgs(task.ext.args))}

    python3 -m genexai.versions "${task.process}" numpy pandas anndata > versions.yml
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${shellWords(["${prefix}.imported.h5ad"])}
    python3 -m genexai.versions "${task.process}" numpy pandas anndata > versions.yml
    """
}
