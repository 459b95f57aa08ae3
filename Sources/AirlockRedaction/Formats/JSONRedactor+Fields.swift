import AirlockPolicy
import AirlockSupport
internal import CAirlockSIMD
import Foundation

extension JSONRedactor {
    // MARK: Fields

    /// The bytes of a key step (a copy; for paths handed on and for rare slow paths only).
    func keyBytes(_ step: PathStep) -> [UInt8] {
        if step.inArena { return Array(keyArena[step.keyStart..<step.keyStart + step.keyCount]) }
        return Array(UnsafeBufferPointer(start: p + step.keyStart, count: step.keyCount))
    }

    /// Whether a member with this key could be selected by a `fields` rule: its key is the last key of some rule's
    /// path. Most members are rejected here, without the full path check.
    @inline(__always)
    func mayBeFieldKey(_ key: PathStep) -> Bool {
        let rules = session.rules
        guard rules.fieldLastKeyLengths & (1 << UInt64(min(key.keyCount, 63))) != 0 else { return false }
        if rules.fieldRulesEndingInElement || key.inArena { return true }
        for name in rules.fieldLastKeys where name.count == key.keyCount {
            let equal = name.withUnsafeBufferPointer { memcmp($0.baseAddress!, p + key.keyStart, name.count) == 0 }
            if equal { return true }
        }
        return false
    }

    /// The first `fields` rule selecting the current path, if any.
    func fieldRule() -> Int? {
        let path = pathSteps()
        for (index, rule) in session.rules.fieldRules.enumerated()
        where matches(rule.segments[...], from: 0, path: path) {
            return index
        }
        return nil
    }

    func matches(_ segments: ArraySlice<CompiledFieldRule.Segment>, from k: Int, path: [PathStep]) -> Bool {
        guard let segment = segments.first else { return k == path.count }
        guard k < path.count else { return false }
        let rest = segments.dropFirst()
        switch segment {
        case .key(let name):
            return keyEquals(path[k], name) && matches(rest, from: k + 1, path: path)
        case .index(let index):
            return path[k].index == index && matches(rest, from: k + 1, path: path)
        case .wildcard:
            return matches(rest, from: k + 1, path: path)
        case .descendant(let name):
            // Fast reject: the rule's remaining segments are usually empty, so the last key must be `name`.
            if rest.isEmpty { return keyEquals(path[path.count - 1], name) }
            var m = k
            while m < path.count {
                if keyEquals(path[m], name), matches(rest, from: m + 1, path: path) { return true }
                m += 1
            }
            return false
        }
    }

    @inline(__always)
    private func keyEquals(_ entry: PathStep, _ name: [UInt8]) -> Bool {
        guard entry.isKey else { return false }
        guard entry.keyCount == name.count else { return false }
        if entry.inArena { return keyArena[entry.keyStart..<entry.keyStart + entry.keyCount].elementsEqual(name) }
        for k in 0..<name.count where p[entry.keyStart + k] != name[k] { return false }
        return true
    }

    /// Applies a non-drop `fields` rule to the whole value at `range`.
    mutating func applyField(_ index: Int, _ range: Range<Int>) throws(Stop) {
        if let visit = session.fieldVisitor { return try visit(index, p, range) }
        let rule = session.rules.fieldRules[index]
        let place = pathString(node: currentNode, hideLastKey: rule.action == .block && rule.hidesKey)
        var canonical = Array(UnsafeBufferPointer(start: p + range.lowerBound, count: range.count))
        if canonical.first == UInt8(ascii: "\"") {
            let token = StringToken(
                start: range.lowerBound + 1,
                end: range.upperBound - 1,
                escaped: canonical.contains(UInt8(ascii: "\\")),
                nonASCII: false
            )
            canonical = try decodeString(token)
        }
        session.record(rule: rule.id, action: rule.action, path: place, value: nil)
        if rule.action == .block {
            throw .blocked(rule: rule.id, reason: "field rule \(rule.id) matched at \(place)")
        }
        let replacement = RedactionSession.replacement(
            action: rule.action,
            ruleID: rule.id,
            label: rule.label,
            canonical: canonical,
            scalars: UTF8Text.scalarCount(canonical),
            keys: session.vendor.keys
        )
        edits.append((range, [UInt8(ascii: "\"")] + Self.encodeString(replacement) + [UInt8(ascii: "\"")]))
    }
}
