import AirlockAudit
import AirlockRedaction

/// Compares what the enforced policy decided about a request with what the vendor's candidate policy would have
/// decided, and writes the difference into the enforced decision's inspection (`EgressInspection.candidate`). The
/// enforced decision itself is returned unchanged: same request, same bytes, same refusal.
///
/// Differences are rule ids, actions, counts and paths. Paths where the candidate found more are the candidate's
/// paths (keys named as the candidate would have written them) passed once more through the enforced policy as text,
/// so a key the enforced policy rewrites appears as it left; one that has no written form is withheld.
enum CandidateComparison {
    /// What a decision amounts to for the comparison.
    struct Summary {
        var decision: String
        var rule: String?
        var findings: [Finding]
        var path: String?

        init(_ decision: EgressDecision) {
            switch decision {
            case .forward(let request):
                self.decision = "forwarded"
                self.rule = nil
                self.findings = request.inspection?.findings ?? []
            case .refuse(let refusal):
                let blocked = refusal.code == "blocked_by_policy"
                self.decision = blocked ? "blocked" : "error"
                self.rule = blocked ? refusal.rule : nil
                self.findings = refusal.inspection?.findings ?? []
            }
            // Report-mode findings decide nothing on either side.
            self.findings.removeAll { $0.mode != nil }
        }
    }

    static func annotate(
        _ enforced: EgressDecision,
        candidate: EgressDecision,
        identity: String,
        enforcedRedactor: Redactor,
        vendor: String
    ) -> EgressDecision {
        guard
            let difference = Self.difference(
                Summary(enforced),
                Summary(candidate),
                identity: identity,
                enforcedRedactor: enforcedRedactor,
                vendor: vendor
            )
        else { return enforced }
        switch enforced {
        case .forward(var request):
            request.inspection?.candidate = difference
            return .forward(request)
        case .refuse(var refusal):
            refusal.inspection?.candidate = difference
            return .refuse(refusal)
        }
    }

    /// Nil when the candidate agrees: same decision, same rule, same count per rule and action.
    static func difference(
        _ enforced: Summary,
        _ candidate: Summary,
        identity: String,
        enforcedRedactor: Redactor,
        vendor: String
    ) -> CandidateDifference? {
        struct Key: Hashable {
            var rule: String
            var action: String
        }
        var enforcedByKey: [Key: Finding] = [:]
        var order: [Key] = []
        for finding in enforced.findings {
            let key = Key(rule: finding.rule, action: finding.action)
            if enforcedByKey[key] == nil { order.append(key) }
            enforcedByKey[key, default: Finding(rule: finding.rule, action: finding.action, count: 0)].merge(finding)
        }
        var candidateByKey: [Key: Finding] = [:]
        for finding in candidate.findings {
            let key = Key(rule: finding.rule, action: finding.action)
            if enforcedByKey[key] == nil, candidateByKey[key] == nil { order.append(key) }
            candidateByKey[key, default: Finding(rule: finding.rule, action: finding.action, count: 0)].merge(finding)
        }
        var counts: [CandidateDifference.RuleCount] = []
        for key in order {
            let mine = enforcedByKey[key]?.count ?? 0
            let theirs = candidateByKey[key]?.count ?? 0
            guard mine != theirs else { continue }
            let paths =
                theirs > mine
                ? (candidateByKey[key]?.paths ?? []).map {
                    Self.asItLeft($0, redactor: enforcedRedactor, vendor: vendor)
                }
                : enforcedByKey[key]?.paths ?? []
            counts.append(
                CandidateDifference.RuleCount(
                    id: key.rule,
                    action: key.action,
                    enforced: mine,
                    candidate: theirs,
                    paths: paths
                )
            )
        }
        guard !counts.isEmpty || enforced.decision != candidate.decision || enforced.rule != candidate.rule else {
            return nil
        }
        return CandidateDifference(
            policy: identity,
            decision: candidate.decision,
            rule: candidate.rule,
            findings: counts
        )
    }

    /// A candidate's path with what the enforced policy rewrites rewritten as it is in what left; withheld when the
    /// enforced policy would not let it leave at all.
    static func asItLeft(_ path: String, redactor: Redactor, vendor: String) -> String {
        switch redactor.redactText(path, vendor: vendor) {
        case .forward(let body, _): String(decoding: body, as: UTF8.self)
        case .block, .uninspectable: "(withheld)"
        }
    }
}

extension Finding {
    /// Adds another finding of the same rule and action: counts summed, paths joined (first seen first, capped).
    fileprivate mutating func merge(_ other: Finding) {
        count += other.count
        for path in other.paths where paths.count < Finding.maxPaths && !paths.contains(path) { paths.append(path) }
    }
}
