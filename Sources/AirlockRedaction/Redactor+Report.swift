import AirlockPolicy

/// Report-mode rules (`mode: report`): matched on every request, never applied.
///
/// They are run over what the enforced rules let leave (the body, path segment, query part or header value as it
/// is forwarded), by an engine of their own: so their findings never change the enforced decision or bytes, and
/// their paths name keys as they left (further hidden where a report rule matches in them). A report rule therefore
/// reports what it would add to the enforced policy: text an enforced rule already rewrote is not counted again,
/// and a request the enforced rules refuse sent nothing for a report rule to see.
extension Redactor {
    /// `outcome` of the enforced rules with this (report) engine's findings on what leaves appended, marked
    /// `mode: report`. `blocks`: the report rules this engine applies as `redact` whose findings say `block`.
    func adding(
        to outcome: UncopiedRedactionOutcome,
        blocks: Set<String>,
        input: UnsafeBufferPointer<UInt8>,
        contentType: String?,
        contentEncoding: String?,
        vendor: String
    ) -> UncopiedRedactionOutcome {
        switch outcome {
        case .unchanged(let findings):
            let reported = reportedFindings(
                input,
                contentType: contentType,
                contentEncoding: contentEncoding,
                vendor: vendor,
                blocks: blocks
            )
            return .unchanged(findings: findings + reported)
        case .forward(let body, let findings):
            let reported = body.withUnsafeBufferPointer {
                reportedFindings(
                    $0,
                    contentType: contentType,
                    contentEncoding: contentEncoding,
                    vendor: vendor,
                    blocks: blocks
                )
            }
            return .forward(body: body, findings: findings + reported)
        case .block, .uninspectable:
            return outcome
        }
    }

    /// What this engine's rules find in `leaving`, marked report-only. Its own `content.unknown` findings and a
    /// body it cannot read add nothing: the enforced rules decided about those.
    private func reportedFindings(
        _ leaving: UnsafeBufferPointer<UInt8>,
        contentType: String?,
        contentEncoding: String?,
        vendor: String,
        blocks: Set<String>
    ) -> [Finding] {
        let findings: [Finding]
        switch decideEnforced(leaving, contentType: contentType, contentEncoding: contentEncoding, vendor: vendor) {
        case .unchanged(let found), .forward(_, let found), .block(_, _, let found), .uninspectable(_, let found):
            findings = found
        }
        return findings.compactMap { finding in
            guard finding.rule != "content.unknown" else { return nil }
            var reported = finding
            reported.mode = .report
            if blocks.contains(finding.rule) { reported.action = Action.block.rawValue }
            return reported
        }
    }
}
