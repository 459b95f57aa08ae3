import AirlockPolicy

/// A rule id a route's `exempt_rules` names that the policy does not have.
public struct UnknownExemptRule: Error, Sendable, CustomStringConvertible {
    public var id: String
    public var known: [String]

    public var description: String {
        "exempt_rules names \"\(self.id)\", which is no rule of the policy (its rules: \(self.known.joined(separator: ", ")))"
    }
}

extension Policy {
    /// The policy without the rules whose ids are in `ids` (a route's `exempt_rules`). Everything else, including
    /// what happens to unknown content, stays as it is.
    func exempting(_ ids: [String]) throws(UnknownExemptRule) -> Policy {
        let known =
            self.terms.map(\.id) + self.patterns.map(\.id) + self.detectors.map(\.id) + self.fields.map(\.id)
            + self.encodedFields.map(\.id)
        if let unknown = ids.first(where: { !known.contains($0) }) {
            throw UnknownExemptRule(id: unknown, known: known)
        }
        var copy = self
        copy.terms.removeAll { ids.contains($0.id) }
        copy.patterns.removeAll { ids.contains($0.id) }
        copy.detectors.removeAll { ids.contains($0.id) }
        copy.fields.removeAll { ids.contains($0.id) }
        copy.encodedFields.removeAll { ids.contains($0.id) }
        return copy
    }
}
