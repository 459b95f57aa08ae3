import AirlockSupport
import Foundation
import Yams

/// One load of one root policy: the state shared by the root file and everything it pulls in.
struct PolicyLoadSession {
    let root: PolicySourceFile
    var diagnostics: [PolicyDiagnostic] = []
    var includeStack: [PolicySourceFile] = []
    var loadedFiles: Set<String> = []
    var hasher = SHA256.Hasher()
    var sourceFiles: [String] = []

    var version = 1
    var name = ""
    var terms: [TermRule] = []
    var patterns: [PatternRule] = []
    var detectors: [DetectorRule] = []
    var fields: [FieldRule] = []
    var encodedFields: [EncodedField] = []
    var allow: [String] = []
    var pseudonyms = PseudonymOptions()
    var ruleIDs: [String: SourceLocation] = [:]
    /// The `images:` section of the last file read that has one (see `readImages`).
    var images: ImageRules?

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
            images: images,
            sourceFiles: sourceFiles,
            contentHash: hasher.finalizeHex(),
            pseudonyms: pseudonyms
        )
    }

    // MARK: - Files

    /// Reads `file` as text for the policy: records it as a source and feeds the content hash.
    mutating func readText(
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
    mutating func loadPolicyFile(
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
        do throws(YAMLSyntaxError) {
            node = try YAMLReader.compose(text)
        } catch {
            report(SourceLocation(file: file.display, line: error.line, column: error.column), error.message)
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
        readHeader(entries, of: node, isRoot: isRoot, scope: scope)
        let fromIncludes = loadIncludes(entries, of: file, scope: scope)
        readRules(entries, scope: scope)
        if let own = readImages(entries, scope: scope) { images = own }
        readPseudonyms(entries, isRoot: isRoot, scope: scope)
        return readContent(entries, scope: scope) ?? fromIncludes
    }

    /// `version`, `name` and `description`: required in the root file, checked (and otherwise ignored) in includes.
    mutating func readHeader(_ entries: Entries, of node: Node, isRoot: Bool, scope: Scope) {
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
    }

    /// Loads the `include` list in order, skipping files already loaded and reporting cycles. Returns the last
    /// `content.unknown` an include settled on.
    mutating func loadIncludes(_ entries: Entries, of file: PolicySourceFile, scope: Scope) -> UnknownContent? {
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
        return unknown
    }

    /// The rule lists (`terms`, `patterns`, `detectors`, `fields`) and `allow`.
    mutating func readRules(_ entries: Entries, scope: Scope) {
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
    }

    /// The file's own `content.unknown`, or nil when it sets none (or a bad one, reported).
    mutating func readContent(_ entries: Entries, scope: Scope) -> UnknownContent? {
        var unknown: UnknownContent? = nil
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

    mutating func report(_ location: SourceLocation, _ message: String) {
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
