import Foundation
import Yams

/// Reads a policy file (schema v1), its includes and term files, and validates all of it.
///
/// - `include:` paths are relative to the including file and merged in order: the included rules come first, then
///   the including file's own. A file included twice (through two different includes) is read once; an include
///   cycle is an error.
/// - A term rule's `files:` are relative to the policy file the rule is written in: one term per line, trimmed;
///   blank lines and lines starting with `#` are ignored.
/// - Every problem is collected, not just the first, each as `file:line:column: message`.
/// - The policy's `contentHash` is SHA-256 over, for each file in load order, a header `policy|terms <path relative
///   to the root policy's directory>\n<byte count>\n`, then its bytes with a UTF-8 BOM removed and CRLF turned into
///   LF, then `\n`. It does not depend on where the policy lives or how the root path was spelt.
public enum PolicyLoader {
    /// Loads and validates the policy at `path`.
    ///
    /// - Throws: `PolicyLoadError` with every problem found; the policy must not be used then.
    public static func load(path: String) throws(PolicyLoadError) -> Policy {
        var session = PolicyLoadSession(rootPath: path)
        return try session.run()
    }

    /// Keys allowed at the top level of a policy file.
    public static let topLevelKeys = [
        "version", "name", "description", "include", "terms", "patterns", "detectors", "fields", "allow", "content",
    ]
    static let termKeys = ["id", "label", "action", "values", "files", "case_sensitive", "whole_word", "variants"]
    static let patternKeys = ["id", "label", "regex", "action", "near", "within"]
    static let fieldKeys = ["id", "label", "path", "action", "encoding"]
    static let contentKeys = ["unknown"]
    static let detectorCommonKeys = ["action", "id", "label"]
    static func detectorKeys(_ kind: DetectorRule.Kind) -> [String] {
        switch kind {
        case .email: detectorCommonKeys + ["domains"]
        case .secret: detectorCommonKeys
        case .url: detectorCommonKeys + ["hosts"]
        case .ip: detectorCommonKeys + ["ranges"]
        }
    }
    /// Largest `within` a pattern may ask for.
    static let maximumWithin = 10_000
}

/// A file as the loader tracks it.
struct PolicySourceFile {
    /// As shown in diagnostics: the root path as given, includes joined onto their includer's directory.
    var display: String
    /// Relative to the root policy's directory; what the content hash covers.
    var relative: String
    /// Absolute, symlinks resolved: identity for cycle and repeat detection.
    var canonical: String

    var displayDirectory: String { PolicyPath.directory(of: display) }
    var relativeDirectory: String { PolicyPath.directory(of: relative) }

    func resolve(_ reference: String) -> PolicySourceFile {
        let display =
            reference.hasPrefix("/") ? PolicyPath.normalize(reference) : PolicyPath.join(displayDirectory, reference)
        let relative =
            reference.hasPrefix("/") ? PolicyPath.normalize(reference) : PolicyPath.join(relativeDirectory, reference)
        return PolicySourceFile(display: display, relative: relative, canonical: PolicyPath.canonical(display))
    }
}

enum PolicyPath {
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func join(_ directory: String, _ reference: String) -> String {
        if directory.isEmpty { return normalize(reference) }
        return normalize(directory == "/" ? "/" + reference : directory + "/" + reference)
    }

    /// Removes `.` and resolves `..` lexically, keeping leading `..` of relative paths.
    static func normalize(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." {
                parts.removeLast()
            } else if part == "..", absolute {
                continue
            } else {
                parts.append(part)
            }
        }
        let joined = parts.joined(separator: "/")
        return absolute ? "/" + joined : (joined.isEmpty ? "." : joined)
    }

    static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }
}

/// One load of one root policy: the state shared by the root file and everything it pulls in.
struct PolicyLoadSession {
    private let root: PolicySourceFile
    private var diagnostics: [PolicyDiagnostic] = []
    private var includeStack: [PolicySourceFile] = []
    private var loadedFiles: Set<String> = []
    private var hasher = SHA256()
    private var sourceFiles: [String] = []

    private var version = 1
    private var name = ""
    private var terms: [TermRule] = []
    private var patterns: [PatternRule] = []
    private var detectors: [DetectorRule] = []
    private var fields: [FieldRule] = []
    private var encodedFields: [EncodedField] = []
    private var allow: [String] = []
    private var ruleIDs: [String: SourceLocation] = [:]

    init(rootPath: String) {
        let display = rootPath
        let relative = String(rootPath.split(separator: "/").last ?? Substring(rootPath))
        root = PolicySourceFile(display: display, relative: relative, canonical: PolicyPath.canonical(rootPath))
    }

    mutating func run() throws(PolicyLoadError) -> Policy {
        hasher.update("airlock-policy-v1\n")
        let unknown = loadPolicyFile(root, isRoot: true, reference: root.display, referencedAt: nil)
        guard diagnostics.isEmpty else {
            // Files in load order, then positions in file order, whatever order the checks ran in.
            let fileOrder = Dictionary(
                sourceFiles.enumerated().map { ($1, $0) },
                uniquingKeysWith: { first, _ in first }
            )
            let sorted = diagnostics.enumerated().sorted { a, b in
                let fileA = fileOrder[a.element.location.file] ?? Int.max
                let fileB = fileOrder[b.element.location.file] ?? Int.max
                if fileA != fileB { return fileA < fileB }
                let positionA = (a.element.location.line, a.element.location.column)
                let positionB = (b.element.location.line, b.element.location.column)
                if positionA != positionB { return positionA < positionB }
                return a.offset < b.offset
            }
            throw PolicyLoadError(diagnostics: sorted.map(\.element))
        }
        return Policy(
            version: version,
            name: name,
            terms: terms,
            patterns: patterns,
            detectors: detectors,
            fields: fields,
            encodedFields: encodedFields,
            allow: allow,
            content: ContentRules(unknown: unknown ?? .block),
            sourceFiles: sourceFiles,
            contentHash: hasher.finalizeHex()
        )
    }

    // MARK: - Files

    /// Reads `file` as text for the policy: records it as a source and feeds the content hash.
    private mutating func readText(
        _ file: PolicySourceFile,
        kind: String,
        what: String,
        reference: String,
        referencedAt: SourceLocation?
    ) -> String? {
        let at = referencedAt ?? SourceLocation(file: file.display, line: 1, column: 1)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file.display, isDirectory: &isDirectory) else {
            report(
                at,
                referencedAt == nil
                    ? "policy file not found" : "\(what) '\(reference)' not found (looked for \(file.display))"
            )
            return nil
        }
        guard !isDirectory.boolValue, let data = FileManager.default.contents(atPath: file.display) else {
            report(
                at,
                isDirectory.boolValue ? "\(what) '\(reference)' is a directory" : "cannot read \(what) '\(reference)'"
            )
            return nil
        }
        guard var text = String(validating: data, as: UTF8.self) else {
            report(at, "\(what) '\(reference)' is not valid UTF-8")
            return nil
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        // Swift treats "\r\n" as one Character; normalise on scalars so hashes agree across platforms.
        if text.unicodeScalars.contains("\r") {
            text = text.replacingOccurrences(of: "\r\n", with: "\n")
        }
        hasher.update("\(kind) \(file.relative)\n\(text.utf8.count)\n")
        hasher.update(text.utf8)
        hasher.update("\n")
        if !sourceFiles.contains(file.display) { sourceFiles.append(file.display) }
        return text
    }

    /// Loads one policy file (the root or an include) into the session. Returns the `content.unknown` it settles on:
    /// its own, else the last of its includes', else nil.
    @discardableResult
    private mutating func loadPolicyFile(
        _ file: PolicySourceFile,
        isRoot: Bool,
        reference: String,
        referencedAt: SourceLocation?
    ) -> UnknownContent? {
        loadedFiles.insert(file.canonical)
        guard
            let text = readText(
                file,
                kind: "policy",
                what: isRoot ? "policy file" : "included file",
                reference: reference,
                referencedAt: referencedAt
            )
        else { return nil }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            reportYAMLError(error, in: file)
            return nil
        }
        let scope = Scope(file: file)
        guard let node else {
            report(scope.start, "policy file is empty")
            return nil
        }
        guard case .mapping = node else {
            report(
                scope.location(node),
                "a policy file must be a mapping of keys (version, name, terms, ...), found \(Self.describe(node))"
            )
            return nil
        }
        let entries = mappingEntries(
            node,
            scope: scope,
            allowed: PolicyLoader.topLevelKeys,
            context: "at the top level"
        )

        if let version = entries["version"] {
            if let value = integer(version.value, key: "version", scope: scope) {
                if value != 1 {
                    report(
                        scope.location(version.value),
                        "unsupported policy version \(value); this Airlock reads version 1"
                    )
                } else if isRoot {
                    self.version = value
                }
            }
        } else if isRoot {
            report(scope.location(node), "missing required key 'version' (add 'version: 1')")
        }
        if let nameEntry = entries["name"] {
            if let value = string(nameEntry.value, key: "name", scope: scope), isRoot {
                if value.trimmingCharacters(in: .whitespaces).isEmpty {
                    report(scope.location(nameEntry.value), "'name' must not be empty")
                } else {
                    name = value
                }
            }
        } else if isRoot {
            report(scope.location(node), "missing required key 'name'")
        }
        if let description = entries["description"] {
            _ = string(description.value, key: "description", scope: scope)
        }

        var unknown: UnknownContent? = nil
        includeStack.append(file)
        if let include = entries["include"], let items = list(include.value, key: "include", scope: scope) {
            for item in items {
                guard let reference = string(item, key: "include", scope: scope) else { continue }
                let included = file.resolve(reference)
                let at = scope.location(item)
                if includeStack.contains(where: { $0.canonical == included.canonical }) {
                    let cycle = (includeStack.drop { $0.canonical != included.canonical } + [included]).map(\.display)
                    report(at, "include cycle: \(cycle.joined(separator: " -> "))")
                    continue
                }
                if loadedFiles.contains(included.canonical) { continue }
                if let settled = loadPolicyFile(included, isRoot: false, reference: reference, referencedAt: at) {
                    unknown = settled
                }
            }
        }
        includeStack.removeLast()

        if let entry = entries["terms"], let items = list(entry.value, key: "terms", scope: scope) {
            for item in items { parseTerm(item, scope: scope) }
        }
        if let entry = entries["patterns"], let items = list(entry.value, key: "patterns", scope: scope) {
            for item in items { parsePattern(item, scope: scope) }
        }
        if let entry = entries["detectors"], let items = list(entry.value, key: "detectors", scope: scope) {
            for item in items { parseDetector(item, scope: scope) }
        }
        if let entry = entries["fields"], let items = list(entry.value, key: "fields", scope: scope) {
            for item in items { parseField(item, scope: scope) }
        }
        if let entry = entries["allow"], let items = list(entry.value, key: "allow", scope: scope) {
            for item in items {
                guard let value = nonEmptyString(item, key: "allow", scope: scope) else { continue }
                if !allow.contains(value) { allow.append(value) }
            }
        }
        if let entry = entries["content"], case .mapping = entry.value {
            let content = mappingEntries(
                entry.value,
                scope: scope,
                allowed: PolicyLoader.contentKeys,
                context: "in 'content'"
            )
            if let value = content["unknown"], let text = string(value.value, key: "unknown", scope: scope) {
                if let setting = UnknownContent(rawValue: text) {
                    unknown = setting
                } else {
                    report(
                        scope.location(value.value),
                        "unknown value '\(text)' for 'content.unknown'; expected block or pass"
                    )
                }
            }
        } else if let entry = entries["content"] {
            report(
                scope.location(entry.value),
                "'content' must be a mapping (like 'content: {unknown: block}'), found \(Self.describe(entry.value))"
            )
        }
        return unknown
    }

    private mutating func reportYAMLError(_ error: any Error, in file: PolicySourceFile) {
        guard let error = error as? YamlError else {
            report(SourceLocation(file: file.display, line: 1, column: 1), "cannot parse YAML: \(error)")
            return
        }
        func at(_ mark: Mark) -> SourceLocation {
            SourceLocation(file: file.display, line: mark.line, column: mark.column)
        }
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let contextNote = context.map { " (\($0.text) at \($0.mark))" } ?? ""
            report(at(mark), "YAML syntax error: \(problem)\(contextNote)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            // Yams points at the mapping; point at the repeated key instead where it can be found.
            let key = duplicates.sorted().first ?? ""
            let location = Self.secondOccurrence(ofKey: key, in: context.text).map {
                SourceLocation(file: file.display, line: $0.line, column: $0.column)
            }
            report(location ?? at(context.mark), "duplicate key '\(key)' in a mapping: each key may appear once")
        case .reader(let problem, _, _, _):
            report(SourceLocation(file: file.display, line: 1, column: 1), "cannot read YAML: \(problem)")
        default:
            report(SourceLocation(file: file.display, line: 1, column: 1), "cannot parse YAML: \(error)")
        }
    }

    /// Line and column of the second line that starts with `key:` at the same indentation as the first, or nil.
    static func secondOccurrence(ofKey key: String, in text: String) -> (line: Int, column: Int)? {
        var seen: [Int: Int] = [:]
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var rest = Substring(line)
            var column = 1
            while let first = rest.first, first == " " || first == "-" {
                rest = rest.dropFirst()
                column += 1
            }
            for quote in ["", "'", "\""] where rest.hasPrefix(quote + key + quote) {
                let after = rest.dropFirst(quote.count * 2 + key.count).drop { $0 == " " }
                guard after.hasPrefix(":") else { continue }
                seen[column, default: 0] += 1
                if seen[column] == 2 { return (index + 1, column) }
            }
        }
        return nil
    }

    // MARK: - Rules

    private mutating func parseTerm(_ node: Node, scope: Scope) {
        guard case .mapping = node else {
            report(
                scope.location(node),
                "a term rule must be a mapping with 'id', 'action' and 'values' or 'files', found \(Self.describe(node))"
            )
            return
        }
        let at = scope.location(node)
        let entries = mappingEntries(node, scope: scope, allowed: PolicyLoader.termKeys, context: "in a term rule")
        let id = ruleID(entries, rule: "term rule", at: at, scope: scope)
        let label = ruleLabel(entries, id: id, scope: scope)
        let action = requiredAction(entries, allowed: Action.contentActions, rule: "term rule", at: at, scope: scope)
        let caseSensitive =
            entries["case_sensitive"].flatMap { boolean($0.value, key: "case_sensitive", scope: scope) } ?? false
        let wholeWord = entries["whole_word"].flatMap { boolean($0.value, key: "whole_word", scope: scope) } ?? true
        let variants = entries["variants"].flatMap { boolean($0.value, key: "variants", scope: scope) } ?? true

        var values: [String] = []
        var seen: Set<String> = []
        var sourceProblem = false
        func add(_ term: String) {
            if seen.insert(term).inserted { values.append(term) }
        }
        if entries["values"] == nil, entries["files"] == nil {
            report(at, "term rule '\(id ?? "?")' needs 'values' or 'files'")
            sourceProblem = true
        }
        if let entry = entries["values"] {
            if let items = list(entry.value, key: "values", scope: scope) {
                for item in items {
                    guard let text = string(item, key: "values", scope: scope) else {
                        sourceProblem = true
                        continue
                    }
                    let term = text.trimmingCharacters(in: .whitespacesAndNewlines)
                    if term.isEmpty {
                        report(scope.location(item), "empty term in 'values'")
                        sourceProblem = true
                    } else {
                        add(term)
                    }
                }
            } else {
                sourceProblem = true
            }
        }
        if let entry = entries["files"] {
            if let items = list(entry.value, key: "files", scope: scope) {
                for item in items {
                    guard let reference = string(item, key: "files", scope: scope),
                        let termsFile = readTermsFile(reference, scope: scope, at: scope.location(item))
                    else {
                        sourceProblem = true
                        continue
                    }
                    termsFile.forEach(add)
                }
            } else {
                sourceProblem = true
            }
        }
        if values.isEmpty, !sourceProblem {
            report(at, "term rule '\(id ?? "?")' has an empty term list")
        }
        guard let id, let label, let action else { return }
        terms.append(
            TermRule(
                id: id,
                label: label,
                action: action,
                values: values,
                caseSensitive: caseSensitive,
                wholeWord: wholeWord,
                variants: variants,
                location: at
            )
        )
    }

    /// The terms of a terms file, or nil (with a diagnostic) when it is missing, unreadable or has none.
    private mutating func readTermsFile(_ reference: String, scope: Scope, at: SourceLocation) -> [String]? {
        let file = scope.file.resolve(reference)
        guard let text = readText(file, kind: "terms", what: "terms file", reference: reference, referencedAt: at)
        else {
            return nil
        }
        var terms: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let term = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if term.isEmpty || term.hasPrefix("#") { continue }
            terms.append(term)
        }
        if terms.isEmpty {
            report(at, "terms file '\(reference)' has no terms")
            return nil
        }
        return terms
    }

    private mutating func parsePattern(_ node: Node, scope: Scope) {
        guard case .mapping = node else {
            report(
                scope.location(node),
                "a pattern rule must be a mapping with 'id', 'regex' and 'action', found \(Self.describe(node))"
            )
            return
        }
        let at = scope.location(node)
        let entries = mappingEntries(
            node,
            scope: scope,
            allowed: PolicyLoader.patternKeys,
            context: "in a pattern rule"
        )
        let id = ruleID(entries, rule: "pattern rule", at: at, scope: scope)
        let label = ruleLabel(entries, id: id, scope: scope)
        let action = requiredAction(entries, allowed: Action.contentActions, rule: "pattern rule", at: at, scope: scope)
        var regex: String? = nil
        if let entry = entries["regex"] {
            if let text = nonEmptyString(entry.value, key: "regex", scope: scope) {
                if let problem = RegexSyntax.problem(in: text) {
                    report(scope.location(entry.value), "bad regex in pattern '\(id ?? "?")': \(problem)")
                } else {
                    regex = text
                }
            }
        } else {
            report(at, "pattern rule '\(id ?? "?")' is missing required key 'regex'")
        }
        var near: [String] = []
        var nearOK = true
        if let entry = entries["near"] {
            if let items = list(entry.value, key: "near", scope: scope) {
                if items.isEmpty {
                    report(scope.location(entry.value), "'near' is empty: list hotwords or remove it")
                    nearOK = false
                }
                for item in items {
                    if let word = nonEmptyString(item, key: "near", scope: scope) {
                        near.append(word)
                    } else {
                        nearOK = false
                    }
                }
            } else {
                nearOK = false
            }
        }
        var within = PatternRule.defaultWithin
        if let entry = entries["within"] {
            if entries["near"] == nil {
                report(
                    scope.location(entry.key),
                    "'within' has no effect without 'near': add hotwords in 'near' or remove 'within'"
                )
            }
            if let value = integer(entry.value, key: "within", scope: scope) {
                if (1...PolicyLoader.maximumWithin).contains(value) {
                    within = value
                } else {
                    report(
                        scope.location(entry.value),
                        "'within' must be from 1 to \(PolicyLoader.maximumWithin) characters, found \(value)"
                    )
                }
            }
        }
        guard let id, let label, let action, let regex, nearOK else { return }
        patterns.append(
            PatternRule(id: id, label: label, action: action, regex: regex, near: near, within: within, location: at)
        )
    }

    private mutating func parseDetector(_ node: Node, scope: Scope) {
        let example = "like '- email: {action: redact}'"
        guard case .mapping(let mapping) = node, mapping.count == 1, let (kindNode, options) = mapping.first else {
            report(scope.location(node), "a detector must be a mapping with one key, the detector's name, \(example)")
            return
        }
        let at = scope.location(kindNode)
        guard let kindName = kindNode.scalar?.string else {
            report(at, "a detector's name must be a string, \(example)")
            return
        }
        let known = DetectorRule.Kind.allCases.map(\.rawValue)
        guard let kind = DetectorRule.Kind(rawValue: kindName) else {
            report(
                at,
                "unknown detector '\(kindName)'\(KeySuggestion.hint(for: kindName, in: known)) (known detectors: \(known.joined(separator: ", ")))"
            )
            return
        }
        guard case .mapping = options else {
            report(
                scope.location(options),
                "the \(kind) detector needs options as a mapping, like '- \(kind): {action: redact}', found \(Self.describe(options))"
            )
            return
        }
        let entries = mappingEntries(
            options,
            scope: scope,
            allowed: PolicyLoader.detectorKeys(kind),
            context: "for the \(kind) detector",
            elsewhere: { key in
                DetectorRule.Kind.allCases.first { PolicyLoader.detectorKeys($0).contains(key) }
                    .map { "'\(key)' is an option of the \($0) detector" }
            }
        )
        var explicitID: String? = nil
        var idOK = true
        if let entry = entries["id"] {
            explicitID = ruleIDValue(entry.value, scope: scope)
            idOK = explicitID != nil
        }
        let id = explicitID ?? kind.rawValue
        if idOK { registerID(id, at: at) }
        let label = ruleLabel(entries, id: id, scope: scope)
        let action = requiredAction(
            entries,
            allowed: Action.contentActions,
            rule: "\(kind) detector",
            at: at,
            scope: scope
        )

        var optionsOK = true
        var domains: [String] = []
        var hosts: [HostPattern] = []
        var ranges: [CIDRRange] = []
        if let entry = entries["domains"] {
            let items = nonEmptyList(entry.value, key: "domains", scope: scope)
            if items == nil { optionsOK = false }
            for item in items ?? [] {
                guard let text = string(item, key: "domains", scope: scope) else {
                    optionsOK = false
                    continue
                }
                if text.hasPrefix("@") || text.hasPrefix("*") || HostPattern(text) == nil || text.contains("*") {
                    report(
                        scope.location(item),
                        "invalid e-mail domain '\(text)': write the bare domain, like 'lab.example.com' (subdomains are included)"
                    )
                    optionsOK = false
                } else {
                    domains.append(text.lowercased())
                }
            }
        }
        if let entry = entries["hosts"] {
            let items = nonEmptyList(entry.value, key: "hosts", scope: scope)
            if items == nil { optionsOK = false }
            for item in items ?? [] {
                guard let text = string(item, key: "hosts", scope: scope) else {
                    optionsOK = false
                    continue
                }
                if let pattern = HostPattern(text) {
                    hosts.append(pattern)
                } else {
                    report(
                        scope.location(item),
                        "invalid host pattern '\(text)': use letters, digits, '-', '.', '_' and '*' (no scheme, port or path)"
                    )
                    optionsOK = false
                }
            }
        }
        if let entry = entries["ranges"] {
            let items = nonEmptyList(entry.value, key: "ranges", scope: scope)
            if items == nil { optionsOK = false }
            for item in items ?? [] {
                guard let text = string(item, key: "ranges", scope: scope) else {
                    optionsOK = false
                    continue
                }
                do {
                    ranges.append(try CIDRRange(parsing: text))
                } catch {
                    report(scope.location(item), "bad CIDR range '\(text)': \(error.reason)")
                    optionsOK = false
                }
            }
        }
        guard idOK, let label, let action, optionsOK else { return }
        detectors.append(
            DetectorRule(
                kind: kind,
                id: id,
                label: label,
                action: action,
                domains: domains,
                hosts: hosts,
                ranges: ranges,
                location: at
            )
        )
    }

    private mutating func parseField(_ node: Node, scope: Scope) {
        guard case .mapping = node else {
            report(
                scope.location(node),
                "a fields rule must be a mapping with 'path' and 'action', found \(Self.describe(node))"
            )
            return
        }
        let at = scope.location(node)
        let entries = mappingEntries(node, scope: scope, allowed: PolicyLoader.fieldKeys, context: "in a fields rule")
        var path: JSONPath? = nil
        if let entry = entries["path"] {
            if let text = nonEmptyString(entry.value, key: "path", scope: scope) {
                do {
                    path = try JSONPath(parsing: text)
                } catch {
                    report(
                        scope.location(entry.value),
                        "bad JSONPath '\(text)': \(error.reason) (at character \(error.offset + 1))"
                    )
                }
            }
        } else {
            report(at, "fields rule is missing required key 'path'")
        }
        var id: String? = nil
        var idOK = true
        if let entry = entries["id"] {
            id = ruleIDValue(entry.value, scope: scope)
            idOK = id != nil
        } else {
            id = path?.description
        }
        if idOK, let id { registerID(id, at: at) }
        if let entry = entries["encoding"] {
            parseEncodedField(entry, entries: entries, id: idOK ? id : nil, path: path, at: at, scope: scope)
            return
        }
        let label: String?
        if entries["label"] != nil || entries["id"] != nil {
            label = ruleLabel(entries, id: id, scope: scope)
        } else {
            label = path.map(FieldRule.defaultLabel(for:))
        }
        let action = requiredAction(entries, allowed: Action.fieldActions, rule: "fields rule", at: at, scope: scope)
        guard idOK, let id, let label, let path, let action else { return }
        fields.append(FieldRule(id: id, label: label, path: path, action: action, location: at))
    }

    /// The rest of a `fields` rule with `encoding:` (`{path: $..screenshot, encoding: base64}`): it takes no `action`
    /// or `label`, since the decoded content is inspected by its type.
    private mutating func parseEncodedField(
        _ entry: (key: Node, value: Node),
        entries: Entries,
        id: String?,
        path: JSONPath?,
        at: SourceLocation,
        scope: Scope
    ) {
        for key in ["action", "label"] {
            if let other = entries[key] {
                report(
                    scope.location(other.key),
                    "a fields rule with 'encoding' takes no '\(key)': the decoded value is inspected by its type"
                )
            }
        }
        guard let text = string(entry.value, key: "encoding", scope: scope) else { return }
        guard let encoding = EncodedField.Encoding(rawValue: text) else {
            let names = EncodedField.Encoding.allCases.map(\.rawValue)
            report(
                scope.location(entry.value),
                "unknown encoding '\(text)'\(KeySuggestion.hint(for: text, in: names)) (expected one of: \(names.joined(separator: ", ")))"
            )
            return
        }
        guard let id, let path, entries["action"] == nil, entries["label"] == nil else { return }
        encodedFields.append(EncodedField(id: id, path: path, encoding: encoding, location: at))
    }

    // MARK: - Rule pieces

    /// The rule's `id` (required), registered for duplicate detection; nil (with a diagnostic) when missing or bad.
    private mutating func ruleID(_ entries: Entries, rule: String, at: SourceLocation, scope: Scope) -> String? {
        guard let entry = entries["id"] else {
            report(at, "\(rule) is missing required key 'id'")
            return nil
        }
        guard let id = ruleIDValue(entry.value, scope: scope) else { return nil }
        registerID(id, at: at)
        return id
    }

    private mutating func ruleIDValue(_ node: Node, scope: Scope) -> String? {
        guard let id = string(node, key: "id", scope: scope) else { return nil }
        if id.isEmpty
            || id.unicodeScalars.contains(where: {
                $0.properties.isWhitespace || $0.properties.generalCategory == .control
            })
        {
            report(scope.location(node), "rule id must be non-empty and without spaces, found '\(id)'")
            return nil
        }
        return id
    }

    private mutating func registerID(_ id: String, at: SourceLocation) {
        if let first = ruleIDs[id] {
            report(at, "duplicate rule id '\(id)' (first defined at \(first))")
        } else {
            ruleIDs[id] = at
        }
    }

    /// The explicit `label`, else the default for `id`; nil when the label is bad or there is no id.
    private mutating func ruleLabel(_ entries: Entries, id: String?, scope: Scope) -> String? {
        guard let entry = entries["label"] else { return id.map(RuleLabel.defaultLabel(forID:)) }
        guard let label = string(entry.value, key: "label", scope: scope) else { return nil }
        guard RuleLabel.isValid(label) else {
            report(
                scope.location(entry.value),
                "label '\(label)' may only contain ASCII letters, digits and '_' (it appears in placeholders and tokens)"
            )
            return nil
        }
        return label
    }

    private mutating func requiredAction(
        _ entries: Entries,
        allowed: [Action],
        rule: String,
        at: SourceLocation,
        scope: Scope
    ) -> Action? {
        guard let entry = entries["action"] else {
            report(
                at,
                "\(rule) is missing required key 'action' (one of: \(allowed.map(\.rawValue).joined(separator: ", ")))"
            )
            return nil
        }
        guard let text = string(entry.value, key: "action", scope: scope) else { return nil }
        let actionLocation = scope.location(entry.value)
        guard let action = Action(rawValue: text) else {
            let names = allowed.map(\.rawValue)
            report(
                actionLocation,
                "unknown action '\(text)'\(KeySuggestion.hint(for: text, in: names)) (expected one of: \(names.joined(separator: ", ")))"
            )
            return nil
        }
        guard allowed.contains(action) else {
            let only = action == .drop ? "; 'drop' only applies to fields rules" : ""
            report(
                actionLocation,
                "action '\(text)' is not allowed for a \(rule)\(only) (use one of: \(allowed.map(\.rawValue).joined(separator: ", ")))"
            )
            return nil
        }
        return action
    }

    // MARK: - Typed access to YAML nodes

    typealias Entries = [String: (key: Node, value: Node)]

    /// The entries of a mapping by key; reports keys not in `allowed` (with the closest known key) and non-string keys.
    private mutating func mappingEntries(
        _ node: Node,
        scope: Scope,
        allowed: [String],
        context: String,
        elsewhere: (String) -> String? = { _ in nil }
    ) -> Entries {
        guard case .mapping(let mapping) = node else { return [:] }
        var entries: Entries = [:]
        for (key, value) in mapping {
            guard let name = key.scalar?.string else {
                report(scope.location(key), "keys must be strings, found \(Self.describe(key))")
                continue
            }
            guard allowed.contains(name) else {
                let hint = elsewhere(name).map { "; \($0)" } ?? KeySuggestion.hint(for: name, in: allowed)
                report(scope.location(key), "unknown key '\(name)' \(context)\(hint)")
                continue
            }
            entries[name] = (key, value)
        }
        return entries
    }

    private mutating func string(_ node: Node, key: String, scope: Scope) -> String? {
        guard case .scalar(let scalar) = node, !Self.isNull(scalar) else {
            report(scope.location(node), "'\(key)' must be a string, found \(Self.describe(node))")
            return nil
        }
        return scalar.string
    }

    private mutating func nonEmptyString(_ node: Node, key: String, scope: Scope) -> String? {
        guard let text = string(node, key: key, scope: scope) else { return nil }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            report(scope.location(node), "'\(key)' must not be empty")
            return nil
        }
        return text
    }

    private mutating func boolean(_ node: Node, key: String, scope: Scope) -> Bool? {
        guard case .scalar(let scalar) = node, scalar.style == .plain, let value = Bool.construct(from: scalar) else {
            report(scope.location(node), "'\(key)' must be true or false, found \(Self.describe(node))")
            return nil
        }
        return value
    }

    private mutating func integer(_ node: Node, key: String, scope: Scope) -> Int? {
        guard case .scalar(let scalar) = node, scalar.style == .plain, let value = Int(scalar.string) else {
            report(scope.location(node), "'\(key)' must be a whole number, found \(Self.describe(node))")
            return nil
        }
        return value
    }

    private mutating func list(_ node: Node, key: String, scope: Scope) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            report(scope.location(node), "'\(key)' must be a list, found \(Self.describe(node))")
            return nil
        }
        return Array(sequence)
    }

    private mutating func nonEmptyList(_ node: Node, key: String, scope: Scope) -> [Node]? {
        guard let items = list(node, key: key, scope: scope) else { return nil }
        if items.isEmpty {
            report(scope.location(node), "'\(key)' is empty: list at least one entry or remove the key")
            return nil
        }
        return items
    }

    private static func isNull(_ scalar: Node.Scalar) -> Bool {
        scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    static func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            if isNull(scalar) { return "nothing (null)" }
            if scalar.style != .plain { return "a string" }
            if Bool.construct(from: scalar) != nil { return "a boolean" }
            if Int(scalar.string) != nil || Double(scalar.string) != nil { return "a number" }
            return "a string"
        }
    }

    private mutating func report(_ location: SourceLocation, _ message: String) {
        diagnostics.append(PolicyDiagnostic(location: location, message: message))
    }

    /// The file a node belongs to, for locations.
    struct Scope {
        let file: PolicySourceFile

        var start: SourceLocation { SourceLocation(file: file.display, line: 1, column: 1) }

        func location(_ node: Node) -> SourceLocation {
            let mark = node.mark
            return SourceLocation(file: file.display, line: mark?.line ?? 1, column: mark?.column ?? 1)
        }
    }
}
