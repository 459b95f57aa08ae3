import Foundation

/// Names of the files in an audit directory.
enum LogFiles {
    static let lockName = ".lock"
    static let tornDirectory = "torn"

    private static let numbering = NumberedFileName(prefix: "audit-", suffix: ".jsonl")

    static func name(index: Int) -> String { numbering.name(index: index) }

    static func index(of name: String) -> Int? { numbering.index(of: name) }

    /// Where the records of a log file's `contents` end. The writer fills the file with zeros ahead of its records
    /// (so that making a group durable is a data write and no metadata), and cuts the zeros off at rotation and
    /// shutdown; a file left by a crash or still being written ends in zeros. JSON lines never hold a zero byte.
    ///
    /// - Returns: `lineEnd`, just past the last complete line before the first zero byte (or the end), and
    ///   `dataEnd`, just past the last non-zero byte (at least `lineEnd`). Bytes in `lineEnd..<dataEnd` are a torn
    ///   write: a line cut short, or parts of a write that reached the disk out of order.
    static func extent(of contents: [UInt8]) -> (lineEnd: Int, dataEnd: Int) {
        let firstZero = contents.firstIndex(of: 0) ?? contents.count
        let lineEnd = contents[..<firstZero].lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
        let dataEnd = contents[lineEnd...].lastIndex { $0 != 0 }.map { $0 + 1 } ?? lineEnd
        return (lineEnd, dataEnd)
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
