#!/usr/bin/env nextflow
/*
 * genexai: are the genes a classifier relies on real biomarkers?
 * Simulate or import expression, train classifiers, explain them with
 * Integrated Gradients and evaluate the explanations (Bontonou et al. 2023).
 */

include { GENEXAI                                     } from './workflows/genexai'
include { validateParameters; validateText; helpMessage;
          sourceDigest; datasetName; guessFormat;
          userFile; stageableFile                     } from './subworkflows/local/utils_genexai'

workflow {
    def schema = "${projectDir}/nextflow_schema.json"
    if (params.help) {
        log.info helpMessage(schema)
        return
    }
    if (params.validate_params) {
        validateParameters(params, schema)
    } else {
        validateText(params)   // control characters: refused even without validation
    }

    if (params.input) {
        def data = userFile(params.input.toString())   // glob characters are literal
        def format = params.input_format ?: guessFormat(data.name)
        def staged = stageableFile('input', params.input.toString(), workflow.workDir)
        if (!format) {
            error("--input_format: cannot tell the format of '${data.name}'; give --input_format")
        }
        def name = params.dataset_name ?: datasetName(data.baseName.replaceAll(/\.(csv|tsv|txt)$/, ''))
        def labels = params.labels ? stageableFile('labels', params.labels.toString(), workflow.workDir) : []
        ch_simulations = Channel.empty()
        ch_imports = Channel.of([[id: name, format: format, simulated: false], staged, labels])
    } else {
        ch_simulations = Channel.fromList(params.simulate.tokenize(',')*.trim())
            .map { config -> [id: config, config: config, simulated: true] }
        ch_imports = Channel.empty()
    }

    GENEXAI(ch_simulations, ch_imports, sourceDigest("${projectDir}/src/genexai"))
}

workflow.onComplete {
    if (workflow.success) {
        log.info "genexai: done. Results in ${params.outdir}/ (report: ${params.outdir}/report/report.html)"
    }
}
