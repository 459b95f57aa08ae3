import AirlockAudit
import AirlockSupport
import Foundation
import HTTPTypes
import Hummingbird

/// CSV and JSON exports of a filtered list, newest first, written in pieces as they are made.
enum ReviewExport {
    static let columns = [
        "time", "directory", "id", "vendor", "client_ip", "client_name", "client_subject", "method", "path",
        "decision", "reason", "reason_code", "rule", "findings", "request_bytes", "forwarded_bytes", "status",
    ]
    /// Records per written piece.
    static let chunk = 2000

    static func csv(_ index: ReviewIndex, _ filter: ReviewFilter) -> Response {
        let positions = index.all(filter)
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8",
                .contentDisposition: "attachment; filename=\"airlock-decisions.csv\"",
            ],
            body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: columns.joined(separator: ",") + "\r\n"))
                for start in stride(from: 0, to: positions.count, by: chunk) {
                    var text = ""
                    for position in positions[start..<min(positions.count, start + chunk)] {
                        text += row(index.records[position]).map(cell).joined(separator: ",") + "\r\n"
                    }
                    try await writer.write(ByteBuffer(string: text))
                }
                try await writer.finish(nil)
            }
        )
    }

    static func row(_ record: SourcedDecision) -> [String] {
        let entry = record.entry
        return [
            entry.time, String(record.directory), entry.id ?? "", entry.vendor ?? "", entry.client?.ip ?? "",
            entry.client?.name ?? "", entry.client?.subject ?? "", entry.method ?? "", entry.path ?? "",
            entry.decision?.rawValue ?? "", DecisionReason.of(entry).rawValue, entry.reason ?? "", entry.rule ?? "",
            ReviewPages.findings(entry), entry.requestBytes.map(String.init) ?? "",
            entry.forwardedBytes.map(String.init) ?? "", entry.status.map(String.init) ?? "",
        ]
    }

    /// One CSV cell, quoted. A value a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a tab
    /// or a carriage return) gets a leading `'`, so it is shown as text (OWASP's CSV-injection guard).
    static func cell(_ value: String) -> String {
        var value = value
        if let first = value.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) {
            value = "'" + value
        }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func json(_ index: ReviewIndex, _ filter: ReviewFilter) -> Response {
        let positions = index.all(filter)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/json",
                .contentDisposition: "attachment; filename=\"airlock-decisions.json\"",
            ],
            body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: "["))
                for start in stride(from: 0, to: positions.count, by: chunk) {
                    var text = ""
                    for (offset, position) in positions[start..<min(positions.count, start + chunk)].enumerated() {
                        let record = index.records[position]
                        let item = Exported(
                            directory: record.directory,
                            reason: DecisionReason.of(record.entry).rawValue,
                            record: record.entry
                        )
                        text +=
                            (start + offset == 0 ? "\n" : ",\n")
                            + String(decoding: try encoder.encode(item), as: UTF8.self)
                    }
                    try await writer.write(ByteBuffer(string: text))
                }
                try await writer.write(ByteBuffer(string: "\n]\n"))
                try await writer.finish(nil)
            }
        )
    }

    struct Exported: Encodable {
        var directory: Int
        var reason: String
        var record: AuditEntry
    }
}
