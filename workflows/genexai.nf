/*
 * The genexai DAG:
 *   SIMULATE | IMPORT -> PREPARE -> GRAPH -> TRAIN (model x seed) -> ATTRIBUTE
 *     -> EVALUATE -> STABILITY (per dataset) -> REPORT
 */

include { SIMULATE  } from '../modules/local/simulate'
include { IMPORT    } from '../modules/local/import'
include { PREPARE   } from '../modules/local/prepare'
include { GRAPH     } from '../modules/local/graph'
include { TRAIN     } from '../modules/local/train'
include { ATTRIBUTE } from '../modules/local/attribute'
include { EVALUATE  } from '../modules/local/evaluate'
include { STABILITY } from '../modules/local/stability'
include { REPORT    } from '../modules/local/report'
include { parseSeeds } from '../subworkflows/local/utils_genexai'

workflow GENEXAI {
    take:
    ch_simulations   // [id, config, simulated]
    ch_imports       // [meta, data, labels]
    src_digest       // genexai source digest (cache key)

    main:
    def models = params.models.tokenize(',')*.trim()
    def seeds  = parseSeeds(params.seeds.toString())
    def diffused = { String model -> model.startsWith('Diffuse') }
    ch_versions = Channel.empty()

    SIMULATE(ch_simulations, src_digest)
    IMPORT(ch_imports, src_digest)
    ch_versions = ch_versions.mix(SIMULATE.out.versions.first(), IMPORT.out.versions.first())

    PREPARE(SIMULATE.out.h5ad.mix(IMPORT.out.h5ad), src_digest)
    ch_versions = ch_versions.mix(PREPARE.out.versions.first())

    // The correlation graph: for diffused models, and for feature agreement
    // with diffusion on simulated data.
    def needs_graph = { meta -> meta.simulated || models.any(diffused) }
    GRAPH(PREPARE.out.h5ad.filter { meta, h5ad -> needs_graph.call(meta) }, src_digest)
    ch_versions = ch_versions.mix(GRAPH.out.versions.first())

    // One run per dataset x model x seed; keyed by dataset id to attach the graph.
    ch_runs = PREPARE.out.h5ad
        .combine(models)
        .combine(seeds)
        .map { meta, h5ad, model, seed ->
            def run = meta + [id: "${meta.id}.${model}.${seed}", dataset: meta.id, model: model, seed: seed]
            [meta.id, run, h5ad]
        }
    ch_graph = GRAPH.out.graph.map { meta, graph -> [meta.id, graph] }
    ch_runs_split = ch_runs.branch { id, run, h5ad ->
        graph: needs_graph.call(run)
        none: true
    }
    ch_runs_all = ch_runs_split.graph
        .combine(ch_graph, by: 0)
        .map { id, run, h5ad, graph -> [run, h5ad, graph] }
        .mix(ch_runs_split.none.map { id, run, h5ad -> [run, h5ad, []] })

    TRAIN(
        ch_runs_all.map { run, h5ad, graph -> [run, h5ad, diffused.call(run.model) ? graph : []] },
        src_digest
    )
    ch_versions = ch_versions.mix(TRAIN.out.versions.first())

    ch_prepared = ch_runs_all.map { run, h5ad, graph -> [run.id, run, h5ad] }
    ATTRIBUTE(
        ch_prepared.join(TRAIN.out.model.map { meta, f -> [meta.id, f] }).map { id, run, h5ad, model -> [run, h5ad, model] },
        src_digest
    )
    ch_versions = ch_versions.mix(ATTRIBUTE.out.versions.first())

    ch_graph_by_run = ch_runs_all.map { run, h5ad, graph -> [run.id, graph] }
    EVALUATE(
        ch_prepared
            .join(TRAIN.out.model.map { meta, f -> [meta.id, f] })
            .join(ATTRIBUTE.out.attributions.map { meta, f -> [meta.id, f] })
            .join(ch_graph_by_run)
            .map { id, run, h5ad, model, attributions, graph -> [run, h5ad, model, attributions, graph] },
        src_digest
    )
    ch_versions = ch_versions.mix(EVALUATE.out.versions.first())

    // Stability needs at least two rankings of the same dataset.
    STABILITY(
        ATTRIBUTE.out.attributions
            .map { run, f -> [run.dataset, f] }
            .groupTuple()
            .filter { dataset, files -> files.size() >= 2 }
            .map { dataset, files -> [[id: dataset], files.sort { it.name }] },
        src_digest
    )
    ch_versions = ch_versions.mix(STABILITY.out.versions.first())

    // Sorted as text: the same versions give the same file, so -resume keeps REPORT.
    ch_versions_file = ch_versions
        .map { f -> f.text }
        .unique()
        .collectFile(name: 'software_versions.yml', storeDir: "${params.outdir}/pipeline_info", sort: true, newLine: false)

    ch_results = Channel.empty()
        .mix(
            EVALUATE.out.metrics, EVALUATE.out.curves, EVALUATE.out.top_genes,
            TRAIN.out.metrics, ATTRIBUTE.out.attributions, STABILITY.out.stability,
            PREPARE.out.h5ad,
        )
        .map { meta, f -> f }
        .collect(sort: { a, b -> a.name <=> b.name })
    ch_params = Channel.of(groovy.json.JsonOutput.prettyPrint(groovy.json.JsonOutput.toJson(params)))
        .collectFile(name: 'params.json')

    REPORT(ch_results, ch_params, ch_versions_file, src_digest)

    emit:
    report   = REPORT.out.html
    versions = ch_versions_file
}
