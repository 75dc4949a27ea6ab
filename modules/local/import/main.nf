include { extArgs; shellWords } from '../../../subworkflows/local/utils_genexai'

process IMPORT {
    tag "${meta.id}"
    label 'process_medium'
    container "${params.container_registry}/genexai-cpu:${workflow.manifest.version}"

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
    // The names the user gave reach the script as argv data, for its messages only:
    // one quoted word each through shellWords, the quoting every argument already
    // takes (tests/pipeline/test_injection.py), so no extra file to stage and parse.
    // Written --input-name=NAME so that a name starting with '-' is still this
    // option's value, never another option. The files keep their fixed names.
    def names = [
        meta.input_name != null ? ["--input-name=${meta.input_name}"] : [],
        labels && meta.labels_name != null ? ["--labels-name=${meta.labels_name}"] : [],
    ]
    """
    import_data.py ${shellWords([
        '--input', 'input.data',
        '--format', meta.format,
        labels ? ['--labels', 'labels.data'] : [],
        names,
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
