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
def schemaProperties(schemaPath) {
    def schema = new JsonSlurper().parse(file(schemaPath).toFile())
    def props = [:]
    schema['$defs'].each { group, body -> props.putAll(body.properties ?: [:]) }
    return props
}

def kebabToSnake(String name) { name.replace('-', '_') }

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
        def type = spec.type instanceof List ? spec.type.find { it != 'null' } : spec.type
        def ok = true
        switch (type) {
            case 'boolean': ok = value instanceof Boolean; break
            case 'integer': ok = (value instanceof Integer || value instanceof Long || value instanceof BigInteger); break
            case 'number':  ok = value instanceof Number; break
            case 'string':  ok = !(value instanceof Boolean) && (value instanceof CharSequence || value instanceof Number); break
        }
        if (!ok) {
            errors << "--${name}: expected ${type}, got '${value}' (${value.getClass().simpleName})"
            return
        }
        if (spec.enum && !(value.toString() in spec.enum.collect { it.toString() })) {
            errors << "--${name}: '${value}' is not one of ${spec.enum.join(', ')}"
        }
        if (spec.pattern && !(value.toString() ==~ spec.pattern)) {
            errors << "--${name}: '${value}' does not match ${spec.pattern}${spec.pattern_help ? ' (' + spec.pattern_help + ')' : ''}"
        }
        if (spec.minimum != null && value instanceof Number && value < spec.minimum) {
            errors << "--${name}: ${value} is below the minimum ${spec.minimum}"
        }
        if (spec.maximum != null && value instanceof Number && value > spec.maximum) {
            errors << "--${name}: ${value} is above the maximum ${spec.maximum}"
        }
        if (spec.exclusiveMinimum != null && value instanceof Number && value <= spec.exclusiveMinimum) {
            errors << "--${name}: ${value} must be above ${spec.exclusiveMinimum}"
        }
        if (spec.exclusiveMaximum != null && value instanceof Number && value >= spec.exclusiveMaximum) {
            errors << "--${name}: ${value} must be below ${spec.exclusiveMaximum}"
        }
        if (spec.format in ['file-path', 'path'] && spec.exists) {
            def problem = pathProblem(value.toString())
            if (problem) errors << "--${name}: '${value}' ${problem}"
        }
    }
    // Combinations the schema cannot express.
    if (params.baseline == 'class_mean' && !params.baseline_class) {
        errors << "--baseline class_mean needs --baseline_class (the class whose training mean is the baseline)"
    }
    if (params.baseline_class && !('baseline_class' in unsafe) && !(params.baseline in ['class_mean', 'paper'])) {
        // ATTRIBUTE would refuse it, after IMPORT, PREPARE and TRAIN have published.
        errors << "--baseline_class: used only with --baseline class_mean (the class whose training mean is the baseline)"
    }
    if (params.baseline == 'paper' && params.input) {
        errors << "--baseline paper is the paper's choice per simulation; for --input give zero (PanCan) or class_mean (BRCA, KIRC), see README"
    }
    if (params.baseline == 'paper' && (params.baseline_class || params.studied_classes)) {
        errors << "--baseline paper sets the baseline class and the studied classes itself; drop --baseline_class/--studied_classes"
    }
    if ((params.labels || params.label_key || params.input_format) && !params.input) {
        errors << "--labels/--label_key/--input_format describe --input, which is not set"
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

def failOn(errors) {
    if (errors) {
        error("Invalid parameters:\n  " + errors.join('\n  '))
    }
}

def helpMessage(schemaPath) {
    def schema = new JsonSlurper().parse(file(schemaPath).toFile())
    def lines = ["genexai ${workflow.manifest.version}: ${schema.description}", '',
                 'Usage: nextflow run . -profile <test,local|docker|singularity|...> [--param value ...]', '']
    schema['$defs'].each { group, body ->
        lines << "${body.title}:"
        body.properties.each { name, spec ->
            def dflt = spec.containsKey('default') ? " [default: ${spec.default}]" : ''
            def choices = spec.enum ? " (${spec.enum.join('|')})" : ''
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
    def root = file(dir)
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
