import AirlockPolicy
import AirlockRedaction

/// A policy made ready to hunt with (`airlock log hunt`): every rule applied (report-mode rules included), every
/// action turned into `redact` (so one block does not stop the count, and what the hunt prints is the text with each
/// match replaced by `[REDACTED:LABEL]`, never the match), and `content.unknown: pass` (a payload the engine cannot
/// read is counted as not inspected instead of ending the body's scan).
///
/// The engine's pseudonym keys are fresh for each hunt: nothing it prints can be compared with a token or
/// fingerprint from the proxy.
public struct HuntPolicy: Sendable {
    public let redactor: Redactor
    /// `name@sha256:…` of the policy as loaded (its files pin the term list without spelling it out).
    public let identity: String
    /// Rule id -> (label, action as the policy writes it).
    public let rules: [String: (label: String, action: String)]
    public let termCount: Int

    public init(_ policy: Policy) throws(RedactionError) {
        var hunting = policy.everyRuleEnforced
        for index in hunting.terms.indices { hunting.terms[index].action = .redact }
        for index in hunting.patterns.indices { hunting.patterns[index].action = .redact }
        for index in hunting.detectors.indices { hunting.detectors[index].action = .redact }
        for index in hunting.fields.indices { hunting.fields[index].action = .redact }
        hunting.content = ContentRules(unknown: .pass)
        redactor = try Redactor(
            policy: hunting,
            keys: PseudonymKeys(secret: (0..<32).map { _ in UInt8.random(in: 0...255) })
        )
        identity = policy.identity
        var rules: [String: (label: String, action: String)] = [:]
        for rule in policy.terms { rules[rule.id] = (rule.label, rule.action.rawValue) }
        for rule in policy.patterns { rules[rule.id] = (rule.label, rule.action.rawValue) }
        for rule in policy.detectors { rules[rule.id] = (rule.label, rule.action.rawValue) }
        for rule in policy.fields { rules[rule.id] = (rule.label, rule.action.rawValue) }
        self.rules = rules
        termCount = policy.termCount
    }
}
