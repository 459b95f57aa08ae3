/// The policy split by rule mode: the rules whose actions are applied, and the `mode: report` rules that are only
/// matched and recorded.
extension Policy {
    /// Whether any rule says `mode: report`.
    public var hasReportRules: Bool {
        terms.contains { $0.mode == .report } || patterns.contains { $0.mode == .report }
            || detectors.contains { $0.mode == .report } || fields.contains { $0.mode == .report }
    }

    /// The rules that decide what leaves: this policy without its `mode: report` rules (same name, hash, allow list,
    /// encoded fields and `content.unknown`). Redacting with it gives exactly the bytes the policy forwards.
    public var enforcedPart: Policy {
        var policy = self
        policy.terms.removeAll { $0.mode == .report }
        policy.patterns.removeAll { $0.mode == .report }
        policy.detectors.removeAll { $0.mode == .report }
        policy.fields.removeAll { $0.mode == .report }
        return policy
    }

    /// The `mode: report` rules alone, as rules of their own (their actions, so that an engine built from this part
    /// says what they would do), with the allow list and encoded fields (values are decoded to be read) and
    /// `content.unknown: pass` (the enforced part decides about unknown content). Nil when there are none.
    public var reportedPart: Policy? {
        guard hasReportRules else { return nil }
        var policy = self
        policy.terms = terms.filter { $0.mode == .report }.map { rule in
            var rule = rule
            rule.mode = .enforce
            return rule
        }
        policy.patterns = patterns.filter { $0.mode == .report }.map { rule in
            var rule = rule
            rule.mode = .enforce
            return rule
        }
        policy.detectors = detectors.filter { $0.mode == .report }.map { rule in
            var rule = rule
            rule.mode = .enforce
            return rule
        }
        policy.fields = fields.filter { $0.mode == .report }.map { rule in
            var rule = rule
            rule.mode = .enforce
            return rule
        }
        policy.content = ContentRules(unknown: .pass)
        return policy
    }

    /// Every rule applied, report-mode rules included: what a retro-hunt runs, where nothing is enforced anyway and
    /// every rule is asked what it finds.
    public var everyRuleEnforced: Policy {
        var policy = self
        for index in policy.terms.indices { policy.terms[index].mode = .enforce }
        for index in policy.patterns.indices { policy.patterns[index].mode = .enforce }
        for index in policy.detectors.indices { policy.detectors[index].mode = .enforce }
        for index in policy.fields.indices { policy.fields[index].mode = .enforce }
        return policy
    }
}

extension Policy {
    /// The ids of the rules whose action is `block`.
    public var blockingRuleIDs: Set<String> {
        Set(
            terms.filter { $0.action == .block }.map(\.id) + patterns.filter { $0.action == .block }.map(\.id)
                + detectors.filter { $0.action == .block }.map(\.id) + fields.filter { $0.action == .block }.map(\.id)
        )
    }

    /// This policy with every `block` applied as `redact`: an engine that counts every match of a block rule instead
    /// of stopping at the first (for reporting what the rules match, never for deciding what leaves).
    public var blocksCounted: Policy {
        var policy = self
        for index in policy.terms.indices where policy.terms[index].action == .block {
            policy.terms[index].action = .redact
        }
        for index in policy.patterns.indices where policy.patterns[index].action == .block {
            policy.patterns[index].action = .redact
        }
        for index in policy.detectors.indices where policy.detectors[index].action == .block {
            policy.detectors[index].action = .redact
        }
        for index in policy.fields.indices where policy.fields[index].action == .block {
            policy.fields[index].action = .redact
        }
        return policy
    }
}
