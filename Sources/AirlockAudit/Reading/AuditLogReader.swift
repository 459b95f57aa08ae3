import AirlockSupport
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads an audit directory back, file by file and line by line. It does not verify the chain; that is
/// ``AuditVerifier``'s job.
public struct AuditLogReader: Sendable {
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    var root: String { directory.standardizedFileURL.path }

    /// One file split into complete lines (without newlines) and an incomplete tail, if any.
    struct FileLines {
        var name: String
        var index: Int
        var contents: [UInt8]
        var lines: [Range<Int>]
        var tornTail: Range<Int>?

        func line(_ number: Int) -> ArraySlice<UInt8> { contents[lines[number]] }
    }

    func files() throws(AuditError) -> [(index: Int, name: String)] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw AuditError(.notFound, "no audit directory at \(root) (pass --dir)")
        }
        return try LogFiles.list(root)
    }

    func read(_ file: (index: Int, name: String)) throws(AuditError) -> FileLines {
        let contents = try POSIXFile.readFile("\(root)/\(file.name)")
        // A zero-filled tail (a file being written, or left by a crash) is not part of the log.
        let (lineEnd, dataEnd) = LogFiles.extent(of: contents)
        // memchr: a log of a million records is hundreds of megabytes, and a byte loop dominated `log show`.
        var lines: [Range<Int>] = []
        contents.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            var start = 0
            while start < lineEnd, let found = memchr(base + start, 0x0A, lineEnd - start) {
                let offset = base.distance(to: UnsafeRawPointer(found))
                lines.append(start..<offset)
                start = offset + 1
            }
        }
        return FileLines(
            name: file.name,
            index: file.index,
            contents: contents,
            lines: lines,
            tornTail: lineEnd < dataEnd ? lineEnd..<dataEnd : nil
        )
    }

    /// Every readable record in order. Lines that are not records (and a torn last line) are skipped.
    public func entries() throws(AuditError) -> [AuditEntry] {
        var entries: [AuditEntry] = []
        let decoder = JSONDecoder()
        for file in try files() {
            let lines = try read(file)
            let data = Data(lines.contents)
            for range in lines.lines {
                if let entry = try? decoder.decode(AuditEntry.self, from: data[range]) {
                    entries.append(entry)
                }
            }
        }
        return entries
    }

    /// Whether a writer currently holds the directory open.
    func isOpenByWriter() -> Bool {
        let path = "\(root)/\(LogFiles.lockName)"
        guard let lock = try? POSIXFile.open(path, flags: O_RDONLY) else { return false }
        defer { lock.close() }
        if flock(lock.descriptor, LOCK_SH | LOCK_NB) == 0 {
            flock(lock.descriptor, LOCK_UN)
            return false
        }
        return errno == EWOULDBLOCK
    }

    /// A stored forwarded body, by its SHA-256 (64 hex digits) or by the request id of its decision record.
    /// The body is checked against its hash before it is returned.
    public func body(for reference: String) throws(AuditError) -> [UInt8] {
        let isHash = SHA256.isLowercaseHex(reference.lowercased())
        let wanted = reference.lowercased()
        let decisions = try entries().filter { $0.event == .decision }
        let matching = decisions.filter { isHash ? $0.forwardedSHA256 == wanted : $0.id == reference }
        guard let decision = matching.last(where: { $0.body != nil }) ?? matching.last else {
            throw AuditError(.notFound, "no decision with request id or body hash \(reference) in \(root)")
        }
        guard let sha256 = decision.forwardedSHA256 else {
            throw AuditError(
                .notFound,
                "request \(reference) has no forwarded body (decision: \(decision.decision?.rawValue ?? "unknown"))"
            )
        }
        guard let location = decision.body else {
            throw AuditError(
                .notFound,
                "the body \(sha256) of \(reference) was not stored (audit.store_bodies: false?)"
            )
        }
        return try BodyStore.read(root: root, reference: location, sha256: sha256)
    }
}
