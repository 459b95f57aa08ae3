import Foundation

/// Names of the files in an audit directory.
enum LogFiles {
    static let lockName = ".lock"
    static let tornDirectory = "torn"

    static func name(index: Int) -> String {
        let digits = String(index)
        return "audit-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits + ".jsonl"
    }

    static func index(of name: String) -> Int? {
        guard name.hasPrefix("audit-"), name.hasSuffix(".jsonl") else { return nil }
        let digits = name.dropFirst(6).dropLast(6)
        guard digits.count >= 6, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(digits)
    }

    /// The log files in index order.
    static func list(_ directory: String) throws(AuditError) -> [(index: Int, name: String)] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw AuditError(.notFound, "cannot list the audit directory \(directory): \(error.localizedDescription)")
        }
        return names.compactMap { name in index(of: name).map { (index: $0, name: name) } }.sorted {
            $0.index < $1.index
        }
    }
}
