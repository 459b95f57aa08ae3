import AirlockSupport
import Foundation

extension AuditLogReader {
    /// The decisions matching `query`, in log order, each completed with its outcome (vendor status, duration,
    /// error) when one was recorded.
    public func decisions(matching query: AuditQuery = AuditQuery()) throws(AuditError) -> [AuditEntry] {
        var rows: [AuditEntry] = []
        var rowByID: [String: Int] = [:]
        for entry in try entries() {
            switch entry.event {
            case .decision where query.matches(entry):
                if let id = entry.id { rowByID[id] = rows.count }
                rows.append(entry)
            case .outcome:
                guard let id = entry.id, let row = rowByID[id] else { continue }
                rows[row].status = entry.status ?? rows[row].status
                rows[row].durationMs = entry.durationMs ?? rows[row].durationMs
                rows[row].error = entry.error ?? rows[row].error
            default:
                continue
            }
        }
        return rows
    }
}
