/// Accumulates one rule's finding over a body.
struct FindingBuilder {
    var rule: String
    var action: String
    var count = 0
    var paths: [String] = []
    var fingerprints: [String] = []

    var finding: Finding {
        Finding(rule: rule, action: action, count: count, paths: paths, fingerprints: fingerprints)
    }
}
