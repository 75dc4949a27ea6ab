include { extArgs; shellWords } from '../../../subworkflows/local/utils_genexai'

process MULTIQC {
    tag "multiqc"
    label 'process_single'
    container "${params.container_registry}/genexai-cpu:${workflow.manifest.version}"
    // REPORT re-runs in every run (it shows the run's name) and writes its
    // tables anew, byte for byte the same: hash inputs by content so that
    // -resume keeps this task.
    cache 'deep'

    input:
    path(tables, stageAs: 'tables/*')   // REPORT's summary/*_mqc.tsv (MultiQC custom content)
    path(multiqc_config)                // assets/multiqc_config.yml
    // The pipeline's versions: MultiQC reads *_mqc_versions.yml into its software-versions section.
    path(versions, stageAs: 'tables/genexai_software_mqc_versions.yml')
    val(src_digest)

    output:
    path "multiqc_report.html", emit: report
    path "multiqc_data"       , emit: data
    path "versions.yml"       , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    """
    multiqc ${shellWords([
        '--force',
        '--config', multiqc_config,
        '--filename', 'multiqc_report.html',
    ] + extArgs(task.ext.args) + ['tables'])}

    python3 -m genexai.versions "${task.process}" multiqc > versions.yml
    """

    stub:
    """
    mkdir multiqc_data
    touch multiqc_report.html
    python3 -m genexai.versions "${task.process}" multiqc > versions.yml
    """
}
