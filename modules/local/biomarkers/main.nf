include { extArgs; shellWords } from '../../../subworkflows/local/utils_genexai'

process BIOMARKERS {
    tag "${meta.id}"
    label 'process_single'
    container "${params.container_registry}/genexai-cpu:${workflow.manifest.version}"

    input:
    tuple val(meta), path(gene_scores, stageAs: 'gene_scores/*'), path(curves, stageAs: 'curves/*'), path(rankings), path(prepared), path(gene_sets)   // EVALUATE's of every method, model and seed of one dataset; RANK_GENES' wilcoxon; gene_sets: [] without a GMT
    val(src_digest)

    output:
    tuple val(meta), path("${prefix}.biomarkers.tsv"), emit: biomarkers
    tuple val(meta), path("${prefix}.verdict.tsv")   , emit: verdict
    tuple val(meta), path("${prefix}.pathways.tsv")  , emit: pathways
    path "versions.yml"                              , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    prefix = task.ext.prefix ?: "${meta.id}"
    def gene_sets_arg = gene_sets ? ['--gene-sets', gene_sets] : []
    """
    biomarkers.py ${shellWords([
        [gene_scores].flatten().collect { ['--gene-scores', it] },
        [curves].flatten().collect { ['--curves', it] },
        '--rankings', rankings,
        '--prepared', prepared,
        gene_sets_arg,
        '--dataset', meta.dataset ?: meta.id,
        '--output', "${prefix}.biomarkers.tsv",
        '--verdict', "${prefix}.verdict.tsv",
        '--pathways', "${prefix}.pathways.tsv",
    ] + extArgs(task.ext.args))}

    python3 -m genexai.versions "${task.process}" scipy anndata > versions.yml
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${shellWords(["${prefix}.biomarkers.tsv", "${prefix}.verdict.tsv", "${prefix}.pathways.tsv"])}
    python3 -m genexai.versions "${task.process}" scipy anndata > versions.yml
    """
}
