include { extArgs; shellWords } from '../../../subworkflows/local/utils_genexai'

process REPORT {
    tag "report"
    label 'process_single'
    container 'genexai/cpu:0.1.0'
    // The params and versions files are written anew by every run (new mtime):
    // hash inputs by content so that -resume reuses the report.
    cache 'deep'

    input:
    path(results, stageAs: 'collected/*')   // tables only: EVALUATE's metrics/curves/top_genes/completeness, STABILITY's summary, TRAIN's JSON, PREPARE's summary
    path(params_json)
    path(versions)
    val(src_digest)

    output:
    path "summary/*"          , emit: summary
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
        '--outdir', '.',
    ] + extArgs(task.ext.args))}

    python3 -m genexai.versions "${task.process}" pandas matplotlib jinja2 > versions.yml
    """

    stub:
    """
    mkdir -p summary report
    touch summary/metrics.tsv report/report.html
    python3 -m genexai.versions "${task.process}" pandas matplotlib jinja2 > versions.yml
    """
}
