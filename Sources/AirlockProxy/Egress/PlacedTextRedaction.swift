import AirlockRedaction

/// Redacts one short text a request carries outside its body (a path segment, a query key or value, a header value)
/// as plain text, with every finding located at the place it came from (`path[2]`, `query[0].value`,
/// `header:user-agent`), so the audit log says where without saying what.
enum PlacedTextRedaction {
    enum Result {
        /// Leave the text as it is; `reported` holds the findings of report-mode rules (`mode: report`) in it.
        case unchanged(reported: [Finding])
        case changed(String, [Finding])
        case block(rule: String, reason: String, findings: [Finding])
        case uninspectable(reason: String)
    }

    static func redact(_ text: String, at place: String, redactor: Redactor, vendor: String) -> Result {
        guard !text.isEmpty else { return .unchanged(reported: []) }
        let located = { (findings: [Finding]) in
            findings.map { finding in
                var located = finding
                located.paths = [place]
                return located
            }
        }
        switch redactor.redactText(text, vendor: vendor) {
        case .forward(let body, let findings):
            // Report-mode findings alone change nothing: the text leaves as it came, not re-encoded.
            guard findings.contains(where: { $0.mode == nil }) else { return .unchanged(reported: located(findings)) }
            return .changed(String(decoding: body, as: UTF8.self), located(findings))
        case .block(let rule, let reason, let findings):
            return .block(rule: rule, reason: "\(place): \(reason)", findings: located(findings))
        case .uninspectable(let reason, _):
            return .uninspectable(reason: "\(place): \(reason)")
        }
    }
}
