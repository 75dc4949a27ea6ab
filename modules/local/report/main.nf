include { extArgs; shellWords } from '../../../subworkflows/local/utils_genexai'

process REPORT {
    tag "report"
    label 'process_single'
    container "${params.container_registry}/genexai-cpu:${workflow.manifest.version}"
    // No cache 'deep' here: run_info (the run's name and command line) differs
    // in every run, so REPORT re-runs each time by design; the report shows
    // the run that published it.

    input:
    path(results, stageAs: 'collected/*')   // tables only: EVALUATE's metrics/curves/top_genes/completeness, STABILITY's summary, TRAIN's JSON, PREPARE's summary
    path(params_json)
    path(versions)
    path(run_info)   // the Nextflow run: command line, run name, revision, Nextflow version
    val(src_digest)

    output:
    path "summary/*"          , emit: summary
    path "summary/*_mqc.tsv"  , emit: multiqc   // MultiQC custom content (MULTIQC's input)
    path "report/report.html" , emit: html
    path "versions.yml"       , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    """
    report.py ${shellWords([
        '--results-dir', 'collected',
        '--params', params_json,
        '--versions', versions,
        '--run-info', run_info,
        '--outdir', '.',
    ] + extArgs(task.ext.args))}

    python3 -m genexai.versions "${task.process}" pandas matplotlib jinja2 > versions.yml
    """

    stub:
    """
    mkdir -p summary report
    touch summary/metrics.tsv summary/genexai_accuracy_mqc.tsv report/report.html
    python3 -m genexai.versions "${task.process}" pandas matplotlib jinja2 > versions.yml
    """
}
