import AirlockSupport
import Foundation
import Yams

extension PolicyLoadSession {
    // MARK: - Rule pieces

    /// The rule's `id` (required), registered for duplicate detection; nil (with a diagnostic) when missing or bad.
    mutating func ruleID(_ entries: Entries, rule: String, at: SourceLocation, scope: Scope) -> String? {
        guard let entry = entries["id"] else {
            report(at, "\(rule) is missing required key 'id'")
            return nil
        }
        guard let id = ruleIDValue(entry.value, scope: scope) else { return nil }
        registerID(id, at: at)
        return id
    }

    mutating func ruleIDValue(_ node: Node, scope: Scope) -> String? {
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

    mutating func registerID(_ id: String, at: SourceLocation) {
        if let first = ruleIDs[id] {
            report(at, "duplicate rule id '\(id)' (first defined at \(first))")
        } else {
            ruleIDs[id] = at
        }
    }

    /// The explicit `label`, else the default for `id`; nil when the label is bad or there is no id.
    mutating func ruleLabel(_ entries: Entries, id: String?, scope: Scope) -> String? {
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

    mutating func requiredAction(
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

    /// The rule's `mode`: `enforce` when absent; nil (with a diagnostic at the value) when it is not a mode.
    mutating func ruleMode(_ entries: Entries, scope: Scope) -> RuleMode? {
        guard let entry = entries["mode"] else { return .enforce }
        guard let text = string(entry.value, key: "mode", scope: scope) else { return nil }
        guard let mode = RuleMode(rawValue: text) else {
            let names = RuleMode.allCases.map(\.rawValue)
            report(
                scope.location(entry.value),
                "unknown mode '\(text)'\(KeySuggestion.hint(for: text, in: names)) (expected one of: \(names.joined(separator: ", ")))"
            )
            return nil
        }
        return mode
    }

    // MARK: - Typed access to YAML nodes

    typealias Entries = [String: (key: Node, value: Node)]

    /// The entries of a mapping by key; reports keys not in `allowed` (with the closest known key) and non-string keys.
    mutating func mappingEntries(
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

    mutating func string(_ node: Node, key: String, scope: Scope) -> String? {
        guard case .scalar(let scalar) = node, !Self.isNull(scalar) else {
            report(scope.location(node), "'\(key)' must be a string, found \(Self.describe(node))")
            return nil
        }
        return scalar.string
    }

    mutating func nonEmptyString(_ node: Node, key: String, scope: Scope) -> String? {
        guard let text = string(node, key: key, scope: scope) else { return nil }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            report(scope.location(node), "'\(key)' must not be empty")
            return nil
        }
        return text
    }

    mutating func boolean(_ node: Node, key: String, scope: Scope) -> Bool? {
        guard case .scalar(let scalar) = node, scalar.style == .plain, let value = Bool.construct(from: scalar) else {
            report(scope.location(node), "'\(key)' must be true or false, found \(Self.describe(node))")
            return nil
        }
        return value
    }

    mutating func integer(_ node: Node, key: String, scope: Scope) -> Int? {
        guard case .scalar(let scalar) = node, scalar.style == .plain, let value = Int(scalar.string) else {
            report(scope.location(node), "'\(key)' must be a whole number, found \(Self.describe(node))")
            return nil
        }
        return value
    }

    mutating func list(_ node: Node, key: String, scope: Scope) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            report(scope.location(node), "'\(key)' must be a list, found \(Self.describe(node))")
            return nil
        }
        return Array(sequence)
    }

    mutating func nonEmptyList(_ node: Node, key: String, scope: Scope) -> [Node]? {
        guard let items = list(node, key: key, scope: scope) else { return nil }
        if items.isEmpty {
            report(scope.location(node), "'\(key)' is empty: list at least one entry or remove the key")
            return nil
        }
        return items
    }

    static func isNull(_ scalar: Node.Scalar) -> Bool {
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
}
