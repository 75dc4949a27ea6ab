/*
 * The genexai DAG:
 *   SIMULATE | IMPORT -> PREPARE -> RANK_GENES (classical rankings, per dataset x ranking)
 *     PREPARE -> GRAPH -> TRAIN (model x seeds) -> ATTRIBUTE (x method) -> EVALUATE
 *     -> STABILITY (per dataset x method, from EVALUATE's gene scores)
 *     -> BIOMARKERS (per dataset: evidence, verdict, gene sets) -> REPORT
 *     -> MULTIQC (REPORT's summary tables as MultiQC custom content; --skip_multiqc)
 * TRAIN runs one task per dataset x model x group of --seeds_per_task seeds;
 * ATTRIBUTE and EVALUATE one per such group and method. REPORT reads tables
 * only (PREPARE's, STABILITY's and BIOMARKERS' tables, TRAIN's metrics JSON,
 * EVALUATE's tables), never an .h5ad.
 */

include { SIMULATE  } from '../modules/local/simulate'
include { IMPORT    } from '../modules/local/import'
include { PREPARE   } from '../modules/local/prepare'
include { GRAPH     } from '../modules/local/graph'
include { TRAIN     } from '../modules/local/train'
include { ATTRIBUTE } from '../modules/local/attribute'
include { RANK_GENES } from '../modules/local/rank_genes'
include { EVALUATE  } from '../modules/local/evaluate'
include { STABILITY } from '../modules/local/stability'
include { BIOMARKERS } from '../modules/local/biomarkers'
include { REPORT    } from '../modules/local/report'
include { MULTIQC   } from '../modules/local/multiqc'
include { parseSeeds; pipelineCommit; workflowVersionsYaml } from '../subworkflows/local/utils_genexai'

workflow GENEXAI {
    take:
    ch_simulations   // [id, config, simulated]
    ch_imports       // [meta, data, labels]
    src_digest       // genexai source digest (cache key)

    main:
    def models = params.models.tokenize(',')*.trim()
    def methods = params.methods.toString().tokenize(',')*.trim().unique()
    // The classical rankings are methods of their own; BIOMARKERS reads the
    // Wilcoxon statistics of every dataset, so it is ranked whatever --methods says.
    def rankings = ['wilcoxon', 't_test', 'mutual_info']
    def ranked = (['wilcoxon'] + methods.findAll { it in rankings }).unique()
    // The models' own coefficients are defined for the linear models only.
    def explains = { String model, String method -> method != 'coefficients' || model in ['LR', 'DiffuseLR'] }
    def seeds  = parseSeeds(params.seeds.toString())
    def diffused = { String model -> model.startsWith('Diffuse') }
    ch_versions = Channel.empty()

    SIMULATE(ch_simulations, src_digest)
    IMPORT(ch_imports, src_digest)
    ch_versions = ch_versions.mix(SIMULATE.out.versions.first(), IMPORT.out.versions.first())

    PREPARE(SIMULATE.out.h5ad.mix(IMPORT.out.h5ad), src_digest)
    ch_versions = ch_versions.mix(PREPARE.out.versions.first())

    RANK_GENES(PREPARE.out.h5ad.combine(ranked), src_digest)
    ch_versions = ch_versions.mix(RANK_GENES.out.versions.first())
    ch_rankings = RANK_GENES.out.rankings.map { meta, method, file -> [[meta.id, method], file] }

    // The correlation graph: for diffused models, and for feature agreement
    // with diffusion on simulated data.
    def needs_graph = { meta -> meta.simulated || models.any(diffused) }
    GRAPH(PREPARE.out.h5ad.filter { meta, h5ad -> needs_graph.call(meta) }, src_digest)
    ch_versions = ch_versions.mix(GRAPH.out.versions.first())

    // One task per dataset x model x group of --seeds_per_task seeds (a
    // "batch"; meta.seeds), keyed by dataset id to attach the graph.
    def seed_groups = seeds.collate(params.seeds_per_task as int).collect { [seeds: it] }
    ch_runs = PREPARE.out.h5ad
        .combine(models)
        .combine(Channel.fromList(seed_groups))
        .map { meta, h5ad, model, group ->
            def batch = meta + [
                id: "${meta.id}.${model}.${group.seeds.join(',')}", dataset: meta.id, model: model, seeds: group.seeds,
            ]
            [meta.id, batch, h5ad]
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

    // A task's output files in the order of its seeds (globs come sorted by name).
    def bySeed = { batch, files, suffix ->
        def all = [files].flatten()
        batch.seeds.collect { seed -> all.find { it.name.endsWith(".${seed}${suffix}") } }
    }

    TRAIN(
        ch_runs_all.map { run, h5ad, graph -> [run, h5ad, diffused.call(run.model) ? graph : []] },
        src_digest
    )
    ch_versions = ch_versions.mix(TRAIN.out.versions.first())
    ch_models = TRAIN.out.model.map { batch, files -> [batch.id, bySeed(batch, files, '.pt')] }

    // One ATTRIBUTE and one EVALUATE task per model run and method (the id
    // names both); a classical ranking comes with its dataset's rankings file.
    ch_method_runs = ch_runs_all
        .combine(methods)
        .filter { run, h5ad, graph, method -> explains.call(run.model, method) }
        .map { run, h5ad, graph, method ->
            def task = run + [
                id: "${run.dataset}.${run.model}.${method}.${run.seeds.join(',')}", run: run.id, method: method,
            ]
            [task, h5ad, graph]
        }
    ch_ranking_runs = ch_method_runs.branch { task, h5ad, graph ->
        ranking: task.method in rankings
        other: true
    }
    ch_attribute_in = ch_ranking_runs.ranking
        .map { task, h5ad, graph -> [[task.dataset, task.method], task, h5ad] }
        .combine(ch_rankings, by: 0)
        .map { key, task, h5ad, ranking -> [task.run, task, h5ad, ranking] }
        .mix(ch_ranking_runs.other.map { task, h5ad, graph -> [task.run, task, h5ad, []] })
        .combine(ch_models, by: 0)
        .map { run_id, task, h5ad, ranking, checkpoints -> [task, h5ad, checkpoints, ranking] }
    ATTRIBUTE(ch_attribute_in, src_digest)
    ch_versions = ch_versions.mix(ATTRIBUTE.out.versions.first())
    ch_attributions = ATTRIBUTE.out.attributions
        .map { task, files -> [task.id, bySeed(task, files, '.attributions.h5ad')] }

    EVALUATE(
        ch_method_runs
            .map { task, h5ad, graph -> [task.run, task, h5ad, graph] }
            .combine(ch_models, by: 0)
            .map { run_id, task, h5ad, graph, checkpoints -> [task.id, task, h5ad, checkpoints, graph] }
            .join(ch_attributions)
            .map { id, task, h5ad, checkpoints, graph, attributions -> [task, h5ad, checkpoints, attributions, graph] },
        src_digest
    )
    ch_versions = ch_versions.mix(EVALUATE.out.versions.first())

    // Stability needs at least two rankings of the same dataset and method.
    STABILITY(
        EVALUATE.out.gene_scores
            .map { task, files -> [[task.dataset, task.method], files] }
            .groupTuple()
            .map { key, files -> [key, files.flatten()] }
            .filter { key, files -> files.size() >= 2 }
            .map { key, files -> [[id: "${key[0]}.${key[1]}", dataset: key[0], method: key[1]], files.sort { it.name }] },
        src_digest
    )
    ch_versions = ch_versions.mix(STABILITY.out.versions.first())

    // The evidence per class reads every run of a dataset: gene scores and
    // curves of every model, seed and method, its Wilcoxon statistics, and the
    // prepared file's truth and gene names (not its matrix).
    def byDataset = { ch -> ch.map { task, files -> [task.dataset, files] }.groupTuple().map { d, files -> [d, files.flatten().sort { it.name }] } }
    ch_gene_sets = params.gene_sets ? file(params.gene_sets, checkIfExists: true, glob: false) : []
    BIOMARKERS(
        PREPARE.out.h5ad
            .map { meta, h5ad -> [meta.id, meta, h5ad] }
            .join(byDataset(EVALUATE.out.gene_scores))
            .join(byDataset(EVALUATE.out.curves))
            .join(ch_rankings.filter { key, file -> key[1] == 'wilcoxon' }.map { key, file -> [key[0], file] })
            .map { d, meta, h5ad, scores, curves, wilcoxon -> [meta, scores, curves, wilcoxon, h5ad, ch_gene_sets] },
        src_digest
    )
    ch_versions = ch_versions.mix(BIOMARKERS.out.versions.first())

    // Sorted as text: the same versions give the same file, so -resume keeps
    // MULTIQC. The workflow entry (pipeline version and commit, Nextflow
    // version) holds no timestamp or run name, so it keeps that property.
    def commit = pipelineCommit()   // read once: software_versions.yml and the report's run table
    ch_versions_file = ch_versions
        .map { f -> f.text }
        .unique()
        .mix(Channel.of(workflowVersionsYaml(commit)))
        .collectFile(name: 'software_versions.yml', storeDir: "${params.outdir}/pipeline_info", sort: true, newLine: false)

    ch_results = Channel.empty()
        .mix(
            EVALUATE.out.metrics, EVALUATE.out.curves, EVALUATE.out.top_genes,
            EVALUATE.out.completeness, TRAIN.out.metrics, STABILITY.out.summary,
            PREPARE.out.summary, BIOMARKERS.out.biomarkers, BIOMARKERS.out.verdict,
            BIOMARKERS.out.pathways,
        )
        .flatMap { meta, files -> [files].flatten() }
        .collect(sort: { a, b -> a.name <=> b.name })
    def params_json = groovy.json.JsonOutput.prettyPrint(groovy.json.JsonOutput.toJson(params))
    ch_params = Channel.of(params_json).collectFile(name: 'params.json')
    // nf-core's record of the parameters, one file per run (named by its start
    // time, as the trace files are); REPORT reads ch_params, whose name and
    // content are the same in every run with the same parameters.
    def started = workflow.start.format(java.time.format.DateTimeFormatter.ofPattern('yyyy-MM-dd_HH-mm-ss'))
    Channel.of(params_json).collectFile(name: "params_${started}.json", storeDir: "${params.outdir}/pipeline_info")

    // The run itself, for the report. Its name and command line differ in every
    // run, so REPORT re-runs each time (14-40 s measured on the test profile,
    // 73 s for the paper's study): the report shows the run that published it,
    // and every task before it stays cached.
    def run_info = [
        command_line    : workflow.commandLine,
        run_name        : workflow.runName,
        version         : workflow.manifest.version,
        revision        : workflow.revision,
        commit          : commit,
        nextflow_version: nextflow.version.toString(),
    ]
    ch_run_info = Channel.of(groovy.json.JsonOutput.prettyPrint(groovy.json.JsonOutput.toJson(run_info)))
        .collectFile(name: 'run_info.json')

    REPORT(ch_results, ch_params, ch_versions_file, ch_run_info, src_digest)

    if (!params.skip_multiqc) {
        MULTIQC(
            REPORT.out.multiqc,
            file("${projectDir}/assets/multiqc_config.yml", checkIfExists: true),
            ch_versions_file,
            src_digest
        )
    }

    emit:
    report   = REPORT.out.html
    versions = ch_versions_file
}
