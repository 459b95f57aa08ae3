import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The JSON-lines copy of the log that shippers follow (``AuditStreamConfiguration``). Used only from the writer
/// thread of ``AuditLog``, after a batch is durable: it gets whole decision and outcome lines, byte for byte as the
/// log holds them (the same fields, so nothing the log does not hold), and appends them with one `write`, without
/// fsync and without any zero-filled tail.
///
/// A file is rotated before a write once it has reached `maxBytes`: renamed to `.1` (older ones shifted up to
/// `.<keep>`, the oldest removed) and created again, so a follower by name (`tail -F`, Vector's and fluent-bit's file
/// sources) finishes the renamed file and starts the new one from its beginning. A file is rotated only once it
/// has been written to for ``minimumLifetime``: a follower by name only learns of a file when it next looks at the
/// name, so a file renamed away before that would be skipped whole (GNU `tail -F` skipped one of 27 files rotated
/// every 8 ms). Under a burst a file can therefore grow past `maxBytes` by up to that much traffic. A failed write is
/// counted, and the file is reopened for the next batch.
final class DecisionStream {
    let destination: AuditStreamConfiguration
    private var file: POSIXFile?
    private var size = 0
    private var openedAt = ContinuousClock.now
    /// How long a file is written to, at least, before it is rotated.
    static let minimumLifetime = Duration.seconds(1)
    private(set) var linesWritten = 0
    private(set) var failures = 0

    init(_ destination: AuditStreamConfiguration) {
        self.destination = destination
    }

    /// Opens (creating) the file when the log opens: a stream that cannot be written is a configuration error found
    /// at start, not a silent gap later.
    func start() throws(AuditError) {
        switch destination {
        case .standardOutput:
            // A reader that goes away (a closed pipe) must cost a counted write failure, not the process.
            signal(SIGPIPE, SIG_IGN)
        case .file(let url, _, _):
            guard file == nil else { return }
            try open(url.path)
        }
    }

    /// Appends `lines` (whole lines, each ending in a newline).
    func append(_ lines: ArraySlice<UInt8>) {
        guard !lines.isEmpty else { return }
        let count = lines.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
        do {
            switch destination {
            case .standardOutput:
                try POSIXFile(descriptor: STDOUT_FILENO, path: "standard output").write(Array(lines))
            case .file(let url, let maxBytes, let keep):
                let path = url.path
                if file == nil { try open(path) }
                if size > 0 && size >= maxBytes && ContinuousClock.now - openedAt >= Self.minimumLifetime {
                    try rotate(path, keep: keep)
                }
                try file?.write(Array(lines))
                size += lines.count
            }
            linesWritten += count
        } catch {
            failures += 1
            file?.close()
            file = nil
        }
    }

    func close() {
        file?.close()
        file = nil
    }

    private func open(_ path: String) throws(AuditError) {
        let opened = try POSIXFile.open(path, flags: O_WRONLY | O_APPEND | O_CREAT)
        do {
            size = try opened.size()
        } catch {
            opened.close()
            throw error
        }
        file = opened
        openedAt = .now
    }

    /// `path.<keep-1>` → `path.<keep>` … `path` → `path.1`, then a new `path`.
    private func rotate(_ path: String, keep: Int) throws(AuditError) {
        close()
        unlink("\(path).\(keep)")
        if keep > 1 {
            for index in stride(from: keep - 1, through: 1, by: -1) {
                rename("\(path).\(index)", "\(path).\(index + 1)")
            }
        }
        guard rename(path, "\(path).1") == 0 || errno == ENOENT else {
            throw AuditError.posix(.writeFailed, "cannot rotate", path: path, errno: errno)
        }
        try open(path)
    }
}
