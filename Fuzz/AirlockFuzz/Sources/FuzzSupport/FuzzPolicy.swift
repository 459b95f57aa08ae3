import AirlockPolicy
@_spi(Fuzzing) import AirlockRedaction

/// The policy every body target redacts with: terms as policies write them (case insensitive, whole words, with
/// variants), so any whole-word occurrence of a plain spelling in a forwarded body is a leak; a term that blocks;
/// patterns that hit inside numbers; the email detector; and optionally `fields` rules. (Terms that are not whole
/// words would make the check unsound: a pseudonym's last letter can complete a term with the text after it.)
public enum FuzzPolicy {
    /// Term values that may never appear in a forwarded body, a refusal reason or a finding's path.
    public static let hiddenTerms = ["Nightingale", "Project Falcon", "Tidewater", "Ünicorn", "Blackbird"]
    public static let termRuleIDs: Set<String> = ["codenames", "models", "blocked"]

    public static let keys = PseudonymKeys(secret: Array(repeating: 7, count: 32))

    public static func make(fields: Bool) -> Policy {
        let fieldRules: [FieldRule]
        if fields {
            // Literal JSONPaths written here: a parse failure is a bug in this file, not a finding.
            fieldRules = [
                FieldRule(path: try! JSONPath(parsing: "$..internal_notes"), action: .drop),
                FieldRule(path: try! JSONPath(parsing: "$..run_id"), action: .hash),
                FieldRule(path: try! JSONPath(parsing: "$.items[*].secret"), action: .redact),
            ]
        } else {
            fieldRules = []
        }
        return Policy(
            name: "fuzz",
            terms: [
                TermRule(
                    id: "codenames",
                    label: "CODENAME",
                    action: .redact,
                    values: ["Nightingale", "Project Falcon"]
                ),
                TermRule(id: "models", label: "MODEL", action: .pseudonymize, values: ["Tidewater", "Ünicorn"]),
                TermRule(id: "blocked", label: "BLOCKED", action: .block, values: ["Blackbird"]),
            ],
            patterns: [
                PatternRule(id: "quarter", label: "ROADMAP", action: .hash, regex: "Q[1-4] ?20[0-9]{2}"),
                PatternRule(id: "run-id", label: "RUN", action: .redact, regex: "8812[0-9]{2}"),
            ],
            detectors: [DetectorRule(kind: .email, action: .pseudonymize)],
            fields: fieldRules,
            allow: ["Project Gutenberg"]
        )
    }

    /// The engine the proxy runs for `make(fields:)`, with decompression limits small enough that a zip bomb is
    /// refused long before it costs the fuzzer memory.
    public static func redactor(fields: Bool) -> Redactor {
        do {
            return try Redactor(policy: make(fields: fields), keys: keys, limits: limits)
        } catch {
            fatalError("the fuzz policy does not compile: \(error)")
        }
    }

    /// The Swift reference walker for the same policy (the other side of the JSON differential).
    public static func reference(fields: Bool) -> Redactor {
        do {
            return try Redactor.reference(policy: make(fields: fields), keys: keys)
        } catch {
            fatalError("the fuzz policy does not compile: \(error)")
        }
    }

    public static let limits = DecompressionLimits(maxBytes: 1 << 20, maxRatio: 200, ratioFloor: 64 << 10)
}
