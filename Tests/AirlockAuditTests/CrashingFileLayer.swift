import Foundation

@testable import AirlockAudit

#if canImport(Glibc)
import Glibc
#endif

/// A file layer for the audit log in which a process "dies" inside a write: once armed, the next write of records
/// (not of zero fill) to a log file puts only the first half of its bytes on the file, then holds the writer until the
/// test has taken its picture of the disk. The picture is what a kill at that instant leaves (the page cache survives
/// a killed process); released, the write fails with EIO.
final class CrashingFileLayer: @unchecked Sendable {
    // @unchecked: `half` is written once on the writer thread before `crashed` is signalled, read after.
    private let armed = NSLock()
    private var isArmed = false
    private let crashed = DispatchSemaphore(value: 0)
    private let released = DispatchSemaphore(value: 0)
    /// The bytes that reached the file.
    private(set) var half: [UInt8] = []

    func arm() { self.armed.withLock { self.isArmed = true } }

    /// Waits until a write is cut in half; false if none came within `seconds`.
    func waitForTheCrash(seconds: Double = 30) -> Bool { self.crashed.wait(timeout: .now() + seconds) == .success }

    /// Lets the cut write return (failing).
    func release() { self.released.signal() }

    func configuration(_ base: AuditConfiguration) -> AuditConfiguration {
        var configuration = base
        configuration.fileOperations = FileOperations(
            pwrite: { descriptor, bytes, count, offset, path in
                let buffer = UnsafeRawBufferPointer(start: bytes, count: count)
                let crash =
                    path.hasSuffix(".jsonl") && buffer.contains(where: { $0 != 0 })
                    && self.armed.withLock { () -> Bool in
                        defer { self.isArmed = false }
                        return self.isArmed
                    }
                guard crash else { return FileOperations.system.pwrite(descriptor, bytes, count, offset, path) }
                self.half = Array(buffer.prefix(count / 2))
                _ = FileOperations.system.pwrite(descriptor, bytes, count / 2, offset, path)
                self.crashed.signal()
                self.released.wait()
                errno = EIO
                return -1
            },
            fdatasync: FileOperations.system.fdatasync,
            fsync: FileOperations.system.fsync
        )
        return configuration
    }
}
