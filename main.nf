#!/usr/bin/env nextflow
/*
 * genexai: are the genes a classifier relies on real biomarkers?
 * Simulate or import expression, train classifiers, explain them with
 * Integrated Gradients and evaluate the explanations (Bontonou et al. 2023).
 */

include { GENEXAI                  } from './workflows/genexai'
include { PIPELINE_INITIALISATION;
          PIPELINE_COMPLETION;
          helpMessage; sourceDigest } from './subworkflows/local/utils_genexai'

workflow {
    def schema = "${projectDir}/nextflow_schema.json"
    if (params.help) {
        log.info helpMessage(schema)
        return
    }
    PIPELINE_INITIALISATION(schema, "${projectDir}/assets/schema_input.json")
    GENEXAI(
        PIPELINE_INITIALISATION.out.simulations,
        PIPELINE_INITIALISATION.out.imports,
        sourceDigest("${projectDir}/src/genexai")
    )
    PIPELINE_COMPLETION()
}
