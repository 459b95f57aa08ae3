/// A decision's members, encoded by the caller so that the writer thread only numbers, chains and writes them:
/// everything after `time` except `body`, whose location only the writer knows.
struct EncodedDecision: Sendable {
    var id: String
    /// `"id"` through `"forwarded_sha256"`, then `"status"` and `"duration_ms"`; `body` goes at `bodyIndex`.
    var members: [UInt8]
    var bodyIndex: Int

    var beforeBody: ArraySlice<UInt8> { members[..<bodyIndex] }
    var afterBody: ArraySlice<UInt8> { members[bodyIndex...] }

    init(_ record: DecisionRecord) {
        id = record.id
        var line = JSONLine(fragmentCapacity: 512)
        line.string("id", record.id)
        line.object("client") { client in
            client.string("ip", record.client.ip)
            client.string("subject", record.client.subject)
            // Only with `clients:`: records written without it stay as they were.
            if let name = record.client.name { client.string("name", name) }
        }
        line.string("vendor", record.vendor)
        line.string("method", record.method)
        line.string("path", record.path)
        line.string("decision", record.decision.rawValue)
        line.string("reason", record.reason)
        line.string("rule", record.rule)
        // Only in records written since they exist: older records stay as they were and still verify.
        if let category = record.category { line.string("category", category.rawValue) }
        if let direction = record.direction { line.string("direction", direction.rawValue) }
        line.string("policy", record.policy)
        line.objects("findings", record.findings) { object, finding in
            object.string("id", finding.id)
            object.string("action", finding.action)
            object.int("count", finding.count)
            object.strings("paths", finding.paths)
            // Only for report-mode findings: records without any stay as they were.
            if let mode = finding.mode { object.string("mode", mode) }
        }
        line.int("request_bytes", record.requestBytes)
        line.int("forwarded_bytes", record.forwardedBytes)
        line.string("forwarded_sha256", record.forwardedSHA256)
        bodyIndex = line.count
        line.int("status", record.status)
        line.milliseconds("duration_ms", record.durationMs)
        if let refusals = record.refusals {
            line.object("refusals") { window in
                window.int("count", refusals.count)
                window.string("first", refusals.first)
                window.string("last", refusals.last)
            }
        }
        // Only when the vendor's candidate policy disagreed: records without one stay as they were.
        if let candidate = record.candidate {
            line.object("candidate") { object in
                object.string("policy", candidate.policy)
                object.string("decision", candidate.decision)
                object.string("rule", candidate.rule)
                object.objects("findings", candidate.findings) { rule, count in
                    rule.string("id", count.id)
                    rule.string("action", count.action)
                    rule.int("enforced", count.enforced)
                    rule.int("candidate", count.candidate)
                    rule.strings("paths", count.paths)
                }
            }
        }
        members = line.fragment
    }
}
