import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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
        // memchr: a log file is up to `rotate_bytes` long (64 MiB), read whole by every reader.
        contents.withUnsafeBytes { bytes -> (lineEnd: Int, dataEnd: Int) in
            guard let base = bytes.baseAddress else { return (0, 0) }
            let count = bytes.count
            let firstZero = memchr(base, 0, count).map { base.distance(to: UnsafeRawPointer($0)) } ?? count
            var lineEnd = firstZero
            while lineEnd > 0 && bytes[lineEnd - 1] != 0x0A { lineEnd -= 1 }
            var dataEnd = count
            while dataEnd > lineEnd && bytes[dataEnd - 1] == 0 { dataEnd -= 1 }
            return (lineEnd, dataEnd)
        }
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
