import AirlockSupport
import Foundation
import Yams

extension PolicyLoadSession {
    // MARK: - Rules

    // Over 80 lines: the term rule's keys in one place (id, label, action, matching options, mode, values and files),
    // each reported at its own node.
    mutating func parseTerm(_ node: Node, scope: Scope) {
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
        let mode = ruleMode(entries, scope: scope)

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
        guard let id, let label, let action, let mode else { return }
        terms.append(
            TermRule(
                id: id,
                label: label,
                action: action,
                values: values,
                caseSensitive: caseSensitive,
                wholeWord: wholeWord,
                variants: variants,
                mode: mode,
                location: at
            )
        )
    }

    /// The terms of a terms file, or nil (with a diagnostic) when it is missing, unreadable or has none.
    mutating func readTermsFile(_ reference: String, scope: Scope, at: SourceLocation) -> [String]? {
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

    // Over 80 lines: the pattern rule's keys in one place (id, label, action, mode, regex, near, within), each
    // reported at its own node.
    mutating func parsePattern(_ node: Node, scope: Scope) {
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
        let mode = ruleMode(entries, scope: scope)
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
        guard let id, let label, let action, let regex, nearOK, let mode else { return }
        patterns.append(
            PatternRule(
                id: id,
                label: label,
                action: action,
                regex: regex,
                near: near,
                within: within,
                mode: mode,
                location: at
            )
        )
    }

    // Over 80 lines: the detector's options in one place (kind, id, action, label, hosts, domains, ranges), each
    // reported at its own node.
    mutating func parseDetector(_ node: Node, scope: Scope) {
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
        let mode = ruleMode(entries, scope: scope)

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
        guard idOK, let label, let action, optionsOK, let mode else { return }
        detectors.append(
            DetectorRule(
                kind: kind,
                id: id,
                label: label,
                action: action,
                domains: domains,
                hosts: hosts,
                ranges: ranges,
                mode: mode,
                location: at
            )
        )
    }

    mutating func parseField(_ node: Node, scope: Scope) {
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
        let mode = ruleMode(entries, scope: scope)
        guard idOK, let id, let label, let path, let action, let mode else { return }
        fields.append(FieldRule(id: id, label: label, path: path, action: action, mode: mode, location: at))
    }

    /// The rest of a `fields` rule with `encoding:` (`{path: $..screenshot, encoding: base64}`): it takes no `action`
    /// or `label`, since the decoded content is inspected by its type.
    mutating func parseEncodedField(
        _ entry: (key: Node, value: Node),
        entries: Entries,
        id: String?,
        path: JSONPath?,
        at: SourceLocation,
        scope: Scope
    ) {
        for key in ["action", "label", "mode"] {
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
        guard let id, let path, entries["action"] == nil, entries["label"] == nil, entries["mode"] == nil else {
            return
        }
        encodedFields.append(EncodedField(id: id, path: path, encoding: encoding, location: at))
    }
}
