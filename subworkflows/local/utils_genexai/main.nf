/*
 * Pipeline utilities: parameter validation against nextflow_schema.json (no
 * plugin needed), --help, the package-source digest, the input channels, and
 * the quoting that every module uses to pass arguments to its task script.
 */

import groovy.json.JsonOutput
import groovy.json.JsonSlurper

/*
 * Arguments reach task scripts as data, never as shell syntax. Modules build
 * each command's arguments as a list (one element, one argv word) and write
 * only shellWords(...) or batchRuns(...) into the script.
 *
 * shellQuote: bash reads the result back as exactly one word equal to the
 * value. Inside single quotes every character is literal (no expansion,
 * no word splitting, newlines included) except ' itself, which is written as
 * '\'' (close the quotes, an escaped quote, reopen): POSIX sh 2.2.3, and the
 * rule of Python's shlex.quote. No here-document, so no terminator to forge.
 */
def shellQuote(value) { "'" + value.toString().replace("'", "'\\''") + "'" }

// A command's arguments, each quoted: `step.py ${shellWords([...])}`.
def shellWords(List words) { words.flatten().collect { shellQuote(it) }.join(' ') }

// The runs of `python3 -m genexai.batch <script>`: one quoted word per run,
// that run's arguments as a JSON list of strings (printable ASCII: JsonOutput
// escapes control and non-ASCII characters).
def batchRuns(List runs) {
    runs.collect { run -> shellQuote(JsonOutput.toJson(run.flatten()*.toString())) }.join(' ')
}

// task.ext.args as a list of words: a list as it is, a string split on
// whitespace (no quoting is interpreted), nothing when unset.
def extArgs(args) {
    if (args == null) return []
    return args instanceof CharSequence ? args.toString().tokenize() : [args].flatten()
}

// All parameter definitions of the schema, flattened over its $defs groups.
// userFile: the pipeline's own folder may hold '[' or '*' (a checkout in "proj[1]/").
def schemaProperties(schemaPath) {
    def schema = new JsonSlurper().parse(userFile(schemaPath.toString()).toFile())
    def props = [:]
    schema['$defs'].each { group, body -> props.putAll(body.properties ?: [:]) }
    return props
}

def kebabToSnake(String name) { name.replace('-', '_') }

// A value's JSON Schema type: Nextflow parses `--x true` as a Boolean and `--x 5` as an Integer.
def jsonType(value) {
    if (value instanceof Boolean) return 'boolean'
    if (value instanceof Integer || value instanceof Long || value instanceof BigInteger) return 'integer'
    if (value instanceof Number) return 'number'
    if (value instanceof CharSequence) return 'string'
    return value instanceof List ? 'array' : value instanceof Map ? 'object' : value.getClass().simpleName
}

// JSON Schema equality (enum): true is not 'true', 1 is not '1'; 1 and 1.0 are equal.
def sameJsonValue(a, b) {
    def ka = jsonType(a), kb = jsonType(b)
    if (ka in ['integer', 'number'] && kb in ['integer', 'number']) return (a as BigDecimal) == (b as BigDecimal)
    return ka == kb && a.toString() == b.toString()
}

/*
 * Why a value of the right type breaks its schema entry, one line each without
 * the parameter's name: enum, pattern, ranges, and a file that must exist. Both
 * the parameters and the samplesheet's cells are checked by it.
 */
def valueProblems(value, Map spec) {
    def problems = []
    if (spec.enum != null && !spec.enum.any { sameJsonValue(it, value) }) {
        problems << "'${value}' is not one of ${spec.enum*.toString().unique().join(', ')}"
    }
    if (spec.pattern && value instanceof CharSequence && !(value.toString() ==~ spec.pattern)) {
        problems << "'${value}' does not match ${spec.pattern}${spec.pattern_help ? ' (' + spec.pattern_help + ')' : ''}"
    }
    if (spec.minimum != null && value instanceof Number && value < spec.minimum) {
        problems << "${value} is below the minimum ${spec.minimum}"
    }
    if (spec.maximum != null && value instanceof Number && value > spec.maximum) {
        problems << "${value} is above the maximum ${spec.maximum}"
    }
    if (spec.exclusiveMinimum != null && value instanceof Number && value <= spec.exclusiveMinimum) {
        problems << "${value} must be above ${spec.exclusiveMinimum}"
    }
    if (spec.exclusiveMaximum != null && value instanceof Number && value >= spec.exclusiveMaximum) {
        problems << "${value} must be below ${spec.exclusiveMaximum}"
    }
    if (spec.format in ['file-path', 'path'] && spec.exists) {
        def problem = pathProblem(value.toString())
        if (problem) problems << "'${value}' ${problem}"
    }
    return problems
}

/*
 * Every problem with the parameters, one line each: unknown names, wrong types,
 * values outside their enum or pattern, ranges, missing or unreadable files, and
 * contradictory combinations. An empty list means the parameters are valid.
 */
def parameterErrors(params, schemaPath) {
    def props = schemaProperties(schemaPath)
    def errors = controlCharacterErrors(params)
    def unsafe = params.findAll { name, value -> hasControlCharacter(value) }.keySet()
    def camel = { String s -> s.replaceAll(/_([a-z0-9])/) { all, c -> c.toUpperCase() } }
    def known = props.keySet() + props.keySet().collect { camel(it) } + props.keySet().collect { it.replace('_', '-') }
    params.each { name, value ->
        if (!(name in known)) {
            errors << "--${name}: unknown parameter (see --help for the list)"
        }
    }
    props.each { name, spec ->
        def value = params[name]
        if (name in unsafe) return   // refused above; its value would break the one-line message
        if (value == null) {
            if (spec.required_param) errors << "--${name}: required"
            return
        }
        // Types, enum and pattern as JSON Schema reads them (tests/pipeline/test_params.py
        // checks both agree): the schema lists the types a value may have, e.g.
        // ["string", "integer"] where `--seeds 5` (an Integer, as Nextflow parses the
        // command line) is as valid as '1,2'; enum compares type and value; pattern
        // applies to strings only.
        def types = (spec.type instanceof List ? spec.type : [spec.type]).findAll { it != null && it != 'null' }
        def kind = jsonType(value)
        if (types && !types.any { it == kind || (it == 'number' && kind == 'integer') }) {
            def hint = (kind in ['integer', 'number'] && spec.format in ['file-path', 'path']) ? " (a file named like a number: give ./${value})" : ''
            errors << "--${name}: expected ${types.join(' or ')}, got '${value}' (${kind})${hint}"
            return
        }
        valueProblems(value, spec).each { errors << "--${name}: ${it}" }
    }
    // Combinations the schema cannot express. `given`, not Groovy truth: --baseline_class 0
    // is a class (an Integer 0, as Nextflow parses it), not a missing option.
    def given = { v -> v != null && v != '' }
    if (params.baseline == 'class_mean' && !given(params.baseline_class)) {
        errors << "--baseline class_mean needs --baseline_class (the class whose training mean is the baseline)"
    }
    if (given(params.baseline_class) && !('baseline_class' in unsafe) && !(params.baseline in ['class_mean', 'paper'])) {
        // ATTRIBUTE would refuse it, after IMPORT, PREPARE and TRAIN have published.
        errors << "--baseline_class: used only with --baseline class_mean (the class whose training mean is the baseline)"
    }
    if (params.baseline == 'paper' && params.input && !('input' in unsafe) && !isSamplesheet(params.input, params.input_format)) {
        errors << "--baseline paper is the paper's choice per simulation; for --input give zero (PanCan) or class_mean (BRCA, KIRC), see README"
    }
    if (params.baseline == 'paper' && (given(params.baseline_class) || given(params.studied_classes))) {
        errors << "--baseline paper sets the baseline class and the studied classes itself; drop --baseline_class/--studied_classes"
    }
    if ((params.labels || given(params.label_key) || params.input_format) && !params.input) {
        errors << "--labels/--label_key/--input_format describe --input, which is not set"
    }
    def methods = params.methods?.toString()?.tokenize(',')*.trim() ?: []
    if (!('methods' in unsafe) && !('primary_method' in unsafe) && params.primary_method && !(params.primary_method in methods)) {
        errors << "--primary_method: '${params.primary_method}' is not one of --methods (${methods.join(', ')})"
    }
    def models = params.models?.toString()?.tokenize(',')*.trim() ?: []
    if ('coefficients' in methods && !('models' in unsafe) && !models.any { it in ['LR', 'DiffuseLR'] }) {
        errors << "--methods coefficients: the models' own coefficients need a linear model (LR or DiffuseLR) in --models"
    }
    if (params.seeds != null && !('seeds' in unsafe) && parseSeeds(params.seeds.toString()).isEmpty()) {
        errors << "--seeds: '${params.seeds}' gives no seed"
    }
    return errors
}

/*
 * A user file, taken literally: '[', ']', '{', '}', '*' and '?' are legal in
 * file names, so they are never read as a glob pattern (file(..., glob: false)).
 */
def userFile(String path) { file(path, glob: false) }

/*
 * The user file (or folder) as a task input. Nextflow stages an input by its
 * real path (symbolic links resolved), written unescaped into the task's
 * staging script (`ln -s <path> input.data`), where bash would expand '[',
 * ']', '{', '}', '*' and '?' as a glob: staging another file that matches,
 * or failing. An input whose real path holds one is therefore hard-linked
 * (a folder: its tree, every file hard-linked) into the work directory under
 * a plain name: no copy, the same bytes, visible inside containers, and the
 * same path on -resume (named after a digest of the real path), re-linked
 * when the file was replaced. Where a hard link cannot be made (another
 * filesystem), the run stops with one line saying so.
 */
def stageableFile(String name, String path, workDir) {
    def given = userFile(path)
    def real
    try {
        real = given.toRealPath()
    } catch (IOException e) {
        return given   // unreadable: refused by validation, or by the task with --validate_params false
    }
    if (!(real.toString() =~ /[\[\]{}*?]/)) return given
    def digest = java.security.MessageDigest.getInstance('SHA-256')
        .digest(real.toString().getBytes('UTF-8')).encodeHex().toString().substring(0, 16)
    def link = workDir.resolve('genexai-inputs').resolve(digest)
        .resolve(real.fileName.toString().replaceAll(/[\[\]{}*?]/, '_'))
    try {
        java.nio.file.Files.createDirectories(link.parent)
        hardLinkTree(real, link)
    } catch (IOException e) {
        error("--${name}: '${path}' holds a character that Nextflow cannot stage ([ ] { } * ?), "
            + "and it cannot be hard-linked into the work directory (${e.class.simpleName}: ${e.message}); "
            + "rename it, or copy it to a path without these characters")
    }
    return link
}

// Make `link` the same file as `source` (a hard link), or, for a folder, the same tree.
def hardLinkTree(source, link) {
    def Files = java.nio.file.Files
    if (Files.isDirectory(source)) {
        if (Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            Files.delete(link)
        }
        Files.createDirectories(link)
        def wanted = [] as Set
        Files.newDirectoryStream(source).withCloseable { entries ->
            entries.each { child ->
                // As Python's rglob: files behind links are read, linked folders are not entered.
                if (Files.isDirectory(child) && Files.isSymbolicLink(child)) return
                if (!Files.isDirectory(child) && !Files.isRegularFile(child)) return
                wanted << child.fileName.toString()
                hardLinkTree(Files.isSymbolicLink(child) ? child.toRealPath() : child, link.resolve(child.fileName.toString()))
            }
        }
        Files.newDirectoryStream(link).withCloseable { entries ->
            entries.findAll { !(it.fileName.toString() in wanted) }.each { stale ->
                if (Files.isDirectory(stale, java.nio.file.LinkOption.NOFOLLOW_LINKS)) stale.deleteDir() else Files.delete(stale)
            }
        }
        return
    }
    if (Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        if (!Files.isDirectory(link, java.nio.file.LinkOption.NOFOLLOW_LINKS) && Files.isSameFile(link, source)) return
        if (Files.isDirectory(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) link.deleteDir() else Files.delete(link)
    }
    Files.createLink(link, source)
}

// Why a user path cannot be read, or null: missing, a loop of symbolic links, unreadable.
def pathProblem(String path) {
    def f = userFile(path)
    if (java.nio.file.Files.exists(f)) {
        return java.nio.file.Files.isReadable(f) ? null : 'is not readable'
    }
    if (java.nio.file.Files.isSymbolicLink(f)) {
        try {
            f.toRealPath()
        } catch (java.nio.file.FileSystemException e) {
            return e.message?.contains('Too many levels') ? 'is a loop of symbolic links' : 'is a broken symbolic link'
        }
        return 'is a broken symbolic link'
    }
    return 'does not exist'
}

def validateParameters(params, schemaPath) {
    failOn(parameterErrors(params, schemaPath))
}

/*
 * A control character (newline, carriage return, tab, NUL, escape, ...: Unicode
 * category Cc) is never valid in a parameter: names, keys, classes and options
 * are one line of text. A newline would also end a SLURM directive line (the
 * --slurm_* options) and start a command. Checked even with
 * --validate_params false.
 */
def hasControlCharacter(value) {
    value != null && !(value instanceof Boolean) && !(value instanceof Number) && value.toString() =~ /\p{Cc}/
}

def controlCharacterErrors(params) {
    // --studied-classes is also params.studiedClasses: one line per parameter, in snake case.
    def snake = { String s -> s.replace('-', '_').replaceAll(/([A-Z])/) { all, c -> '_' + c.toLowerCase() } }
    params.findAll { name, value -> hasControlCharacter(value) }.collect { name, value ->
        def code = String.format('U+%04X', (int) value.toString().find(/\p{Cc}/).charAt(0))
        "--${snake(name)}: contains a control character (${code}); parameter values are one line of printable text"
    }.unique()
}

def validateText(params) {
    failOn(controlCharacterErrors(params))
}

/*
 * --container_registry becomes part of each task's image name, which Nextflow
 * writes unquoted into the `docker run ... <image>` line of .command.run: a value
 * holding `$(...)` would run there. So its schema pattern is checked even with
 * --validate_params false (a control character is refused by validateText).
 */
def containerRegistryErrors(params, schemaPath) {
    def value = params.container_registry
    def pattern = schemaProperties(schemaPath).container_registry.pattern
    (value == null || hasControlCharacter(value) || value.toString() ==~ pattern) ? [] :
        ["--container_registry: '${value}' does not match ${pattern} (checked even with --validate_params false: it reaches the container engine's command line unquoted)"]
}

def failOn(errors) {
    if (errors) {
        error("Invalid parameters:\n  " + errors.join('\n  '))
    }
}

def helpMessage(schemaPath) {
    def schema = new JsonSlurper().parse(userFile(schemaPath.toString()).toFile())
    def lines = ["genexai ${workflow.manifest.version}: ${schema.description}", '',
                 'Usage: nextflow run . -profile <test,local|docker|singularity|...> [--param value ...]', '']
    schema['$defs'].each { group, body ->
        lines << "${body.title}:"
        body.properties.each { name, spec ->
            def dflt = spec.containsKey('default') ? " [default: ${spec.default}]" : ''
            // unique: ig_target's enum holds true and 'true' (the command line's Boolean and its text).
            def choices = spec.enum ? " (${spec.enum*.toString().unique().join('|')})" : ''
            lines << String.format('  --%-24s %s%s%s', name, spec.description ?: '', choices, dflt)
        }
        lines << ''
    }
    return lines.join('\n')
}

// '1,2,5' or '1-10' or '1-3,7' -> [1, 2, 3, 7]
def parseSeeds(String text) {
    def seeds = []
    text.tokenize(',').each { part ->
        part = part.trim()
        if (part ==~ /\d+-\d+/) {
            def (a, b) = part.tokenize('-').collect { it as Integer }
            seeds.addAll((a..b).toList())
        } else if (part ==~ /\d+/) {
            seeds << (part as Integer)
        }
    }
    return seeds.unique()
}

/*
 * A digest of the genexai package source. Every process takes it as an input,
 * so editing src/genexai invalidates the cached tasks (Nextflow itself hashes
 * only the bin/ scripts, not the modules they import).
 */
def sourceDigest(dir) {
    def md = java.security.MessageDigest.getInstance('SHA-256')
    def root = userFile(dir.toString())
    def files = []
    root.eachFileRecurse(groovy.io.FileType.FILES) { f ->
        if (!f.toString().contains('__pycache__') && !f.name.endsWith('.pyc')) files << f
    }
    files.sort { it.toString() }.each { f ->
        md.update(root.relativize(f).toString().getBytes('UTF-8'))
        md.update(f.bytes)
    }
    return md.digest().encodeHex().toString().substring(0, 16)
}

// A dataset name usable in file names: letters, digits, '_' and '-'.
def datasetName(String name) {
    name.replaceAll(/[^A-Za-z0-9_-]+/, '_').replaceAll(/^_+|_+$/, '') ?: 'input'
}

// Input format from the file name when --input_format is not given.
def guessFormat(String name) {
    def n = name.toLowerCase()
    if (n.endsWith('.h5ad')) return 'h5ad'
    if (n ==~ /.*\.(csv|tsv|txt)(\.gz)?$/) return 'table'
    return null
}

/*
 * Samplesheets (--input): one row per dataset, described by
 * assets/schema_input.json, the one source of truth for its columns (nf-schema's
 * samplesheetToList would need a plugin). A file is a samplesheet when
 * --input_format is samplesheet, or when it is a .csv/.tsv whose header starts
 * with the column `id` and holds the column `input`; an expression table's
 * header names samples or genes, so neither is ever read as the other.
 */
def isSamplesheet(path, format) {
    if (format) return format == 'samplesheet'
    def f = userFile(path.toString())
    if (!(f.name.toLowerCase() ==~ /.*\.(csv|tsv)$/) || !java.nio.file.Files.isRegularFile(f)) return false
    def first = null
    f.withReader('UTF-8') { first = it.readLine() }
    if (first == null) return false
    def header = splitRecord(first.replaceFirst(/^\uFEFF/, ''), f.name.toLowerCase().endsWith('.tsv') ? '\t' : ',')
    return header && header[0]?.trim() == 'id' && header*.trim().contains('input')
}

/*
 * One record of a CSV/TSV line: fields split on `sep`, a field in double quotes
 * may hold `sep`, and "" inside quotes is one quote (RFC 4180). Null when a
 * quote is left open (a field spanning lines is not allowed in a samplesheet).
 */
def splitRecord(String line, String sep) {
    def fields = []
    def field = new StringBuilder()
    def quoted = false
    int i = 0
    while (i < line.length()) {
        def c = line.charAt(i) as String
        if (quoted) {
            if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) as String == '"') { field << '"'; i++ }
            else if (c == '"') quoted = false
            else field << c
        } else if (c == '"') {
            quoted = true
        } else if (c == sep) {
            fields << field.toString(); field = new StringBuilder()
        } else {
            field << c
        }
        i++
    }
    if (quoted) return null
    fields << field.toString()
    return fields
}

// A path from a samplesheet cell: relative paths are read from the samplesheet's folder.
def sheetPath(String value, sheet) {
    if (value.contains('://') || java.nio.file.Paths.get(value).isAbsolute()) return value
    return userFile(sheet.toString()).toAbsolutePath().parent.resolve(value).normalize().toString()
}

/*
 * The rows of a samplesheet as import metas, or every problem found, one line
 * each naming the row (data rows count from 1; the header is line 1), the
 * column and what is wrong. Empty cells take the parameter of the same name;
 * the values a dataset's tasks need are resolved here, once.
 */
def samplesheetRows(String path, String schemaPath, List reservedIds) {
    def schema = new JsonSlurper().parse(userFile(schemaPath).toFile())
    def columns = schema.items.properties
    def required = schema.items.required
    def sheet = userFile(path)
    def sep = sheet.name.toLowerCase().endsWith('.tsv') ? '\t' : ','
    def where = "--input ${path}"
    def lines = sheet.getText('UTF-8').replaceFirst(/^\uFEFF/, '').readLines()
    def header = lines ? splitRecord(lines[0], sep)*.trim() : null
    if (!header) return [errors: ["${where}: line 1: the header is missing or has an unclosed quote"]]
    def errors = []
    header.findAll { !(it in columns.keySet()) }.each {
        errors << "${where}: unknown column '${it}' (columns: ${columns.keySet().join(', ')})"
    }
    header.countBy { it }.findAll { k, n -> n > 1 }.each { k, n -> errors << "${where}: column '${k}' appears ${n} times" }
    (required - header).each { errors << "${where}: required column '${it}' is missing" }
    if (errors) return [errors: errors]
    def metas = []
    def seen = [:]
    int row = 0
    lines.drop(1).eachWithIndex { text, index ->
        if (!text.trim()) return
        row++
        def at = "${where}: row ${row} (line ${index + 2})"
        def cells = splitRecord(text, sep)
        if (cells == null) { errors << "${at}: a quote is not closed"; return }
        if (cells.size() != header.size()) {
            errors << "${at}: ${cells.size()} fields, but the header has ${header.size()}"
            return
        }
        def values = [header, cells*.trim()].transpose().collectEntries { k, v -> [k, v ?: null] }
        required.findAll { values[it] == null }.each { errors << "${at}, column '${it}': required, but empty" }
        ['input', 'labels'].each { if (values[it] != null) values[it] = sheetPath(values[it], path) }
        values.each { name, value ->
            if (value == null) return
            if (hasControlCharacter(value)) { errors << "${at}, column '${name}': contains a control character"; return }
            valueProblems(value, columns[name]).each {
                errors << "${at}, column '${name}': ${it}; expected ${columns[name].errorMessage}"
            }
        }
        def id = values.id
        if (id != null && seen.containsKey(id)) errors << "${at}, column 'id': '${id}' is also row ${seen[id]}'s id"
        else if (id != null && id in reservedIds) errors << "${at}, column 'id': '${id}' is also a simulation of --simulate"
        if (id != null) seen[id] = row
        def format = values.format ?: (values.input ? guessFormat(userFile(values.input).name) : null)
        if (values.input && !format) errors << "${at}, column 'format': cannot tell the format of '${userFile(values.input).name}'; give it"
        // Empty cells: the run's parameters. --baseline paper is the paper's choice per simulation only.
        def baseline = values.baseline ?: params.baseline
        if (baseline == 'paper') {
            errors << "${at}, column 'baseline': --baseline paper applies to simulations only; give zero or class_mean here"
        }
        def baselineClass = values.baseline_class ?: (values.baseline ? null : params.baseline_class)
        if (baseline == 'class_mean' && !baselineClass) {
            errors << "${at}, column 'baseline_class': baseline class_mean needs the class whose training mean is the baseline"
        }
        if (values.baseline_class && baseline != 'class_mean') {
            errors << "${at}, column 'baseline_class': used only with baseline class_mean"
        }
        metas << [
            id: id, format: format, simulated: false,
            input: values.input, input_name: values.input, labels: values.labels, labels_name: values.labels,
            label_key: values.label_key ?: params.label_key,
            transform: values.transform ?: params.transform,
            baseline: baseline, baseline_class: baselineClass,
            studied_classes: values.studied_classes ?: params.studied_classes,
            row: row,
        ]
    }
    if (!metas && !errors) errors << "${where}: no rows below the header"
    return [errors: errors, metas: metas]
}

/*
 * Parameters checked, then the input channels: the simulations of --simulate
 * (test when neither it nor --input is given) and the imports of --input, a
 * single expression file or a samplesheet of several.
 */
workflow PIPELINE_INITIALISATION {
    take:
    schema         // nextflow_schema.json
    schema_input   // assets/schema_input.json

    main:
    if (params.validate_params) {
        validateParameters(params, schema)
    } else {
        validateText(params)   // control characters: refused even without validation
        failOn(containerRegistryErrors(params, schema))
    }
    def configs = params.simulate ? params.simulate.tokenize(',')*.trim() : (params.input ? [] : ['test'])
    def datasets = []
    if (params.input && isSamplesheet(params.input, params.input_format)) {
        def single = ['labels', 'dataset_name'].findAll { params[it] }
        if (single) {
            error("Invalid parameters:\n  " + single.collect { "--${it}: describes a single --input file; with a samplesheet give it per row" }.join('\n  '))
        }
        def sheet = samplesheetRows(params.input.toString(), schema_input, configs)
        failOn(sheet.errors)
        datasets = sheet.metas.collect { meta ->
            def where = "input row ${meta.row}, column"
            def labels = meta.labels ? stageableFile("${where} 'labels'", meta.labels, workflow.workDir) : []
            [meta.findAll { k, v -> !(k in ['input', 'labels', 'row']) }, stageableFile("${where} 'input'", meta.input, workflow.workDir), labels]
        }
    } else if (params.input) {
        def data = userFile(params.input.toString())   // glob characters are literal
        def format = params.input_format ?: guessFormat(data.name)
        if (!format) {
            error("--input_format: cannot tell the format of '${data.name}'; give --input_format")
        }
        def name = params.dataset_name ?: datasetName(data.baseName.replaceAll(/\.(csv|tsv|txt)$/, ''))
        // input_name/labels_name: the user's own paths, for messages (files are staged under fixed names).
        def meta = [id: name, format: format, simulated: false, input_name: params.input.toString(),
                    labels_name: params.labels ? params.labels.toString() : null]
        def labels = params.labels ? stageableFile('labels', params.labels.toString(), workflow.workDir) : []
        datasets = [[meta, stageableFile('input', params.input.toString(), workflow.workDir), labels]]
    }

    emit:
    simulations = Channel.fromList(configs).map { config -> [id: config, config: config, simulated: true] }
    imports     = Channel.fromList(datasets)
}

// In a function: inside the onComplete closure of a workflow block, `workflow` is not the run's metadata.
def completionSummary() {
    if (workflow.success) {
        log.info "genexai: done. Results in ${params.outdir}/ (report: ${params.outdir}/report/report.html)"
    }
}

workflow PIPELINE_COMPLETION {
    main:
    workflow.onComplete { completionSummary() }
}

/*
 * Provenance: which pipeline code and which Nextflow ran. Nothing here may
 * change between two runs of the same code, since REPORT and MULTIQC read
 * software_versions.yml and -resume must keep them: no timestamp, no run name.
 */

// The commit of the pipeline: workflow.commitId for a pipeline Nextflow pulled
// (nextflow run owner/repo -r ...); for a local folder (commitId null), the
// commit its git checkout is at, read by the local git (no network), or null
// when the folder is not a checkout or git is absent.
def pipelineCommit() {
    if (workflow.commitId) {
        return workflow.commitId
    }
    try {
        def proc = ['git', '-C', projectDir.toString(), 'rev-parse', '--verify', '-q', 'HEAD'].execute()
        def out = new StringBuilder()
        // Waits for the output to be read too (consumeProcessOutput + waitFor
        // may return before the reader thread has it, losing the commit).
        proc.waitForProcessOutput(out, new StringBuilder())
        def sha = out.toString().trim()
        return proc.exitValue() == 0 && sha ==~ /[0-9a-f]{40}/ ? sha : null
    } catch (IOException e) {
        return null   // no git on this machine
    }
}

// nf-core's getWorkflowVersion: 'v<manifest.version>', '-g<short commit>' when known.
def workflowVersion(commit) {
    def version = workflow.manifest.version ? "v${workflow.manifest.version}" : ''
    return (commit ? "${version}-g${commit.take(7)}" : version).toString()
}

// software_versions.yml's workflow entry, in nf-core's form (workflowVersionToYAML).
def workflowVersionsYaml(commit) {
    // A String, not a GString: the channel's items are serialised for the cache,
    // and nextflow.version (a VersionNumber) cannot be.
    return "Workflow:\n    genexai: ${workflowVersion(commit)}\n    Nextflow: ${nextflow.version}\n".toString()
}
