import Foundation

@testable import AirlockAudit

#if canImport(Glibc)
import Glibc
#endif

/// A file layer for the audit log that records every write and sync it passes to the system, with how many bytes the
/// vendor had received when each sync returned; and that can make every sync fail (EIO) from a given moment on.
final class SyncProbe: @unchecked Sendable {
    // @unchecked: all state is behind `lock`.
    enum Event {
        case write(path: String, bytes: [UInt8])
        case sync(path: String, vendorBytes: Int)
    }

    private let lock = NSLock()
    private var recorded: [Event] = []
    private var failing = false
    private var vendorBytes: @Sendable () -> Int = { 0 }

    var events: [Event] { self.lock.withLock { self.recorded } }

    /// What the vendor has received so far (read when a sync returns).
    func observeVendor(_ bytes: @escaping @Sendable () -> Int) { self.lock.withLock { self.vendorBytes = bytes } }

    /// Every later fsync and fdatasync fails with EIO, as on a disk that lost the write.
    func failSyncs() { self.lock.withLock { self.failing = true } }

    /// The log configuration writing `directory` through this layer.
    func configuration(directory: URL) -> AuditConfiguration {
        var configuration = AuditConfiguration(directory: directory)
        configuration.fileOperations = self.operations
        return configuration
    }

    private var operations: FileOperations {
        FileOperations(
            pwrite: { descriptor, bytes, count, offset, path in
                let copy = Array(UnsafeRawBufferPointer(start: bytes, count: count))
                self.lock.withLock { self.recorded.append(.write(path: path, bytes: copy)) }
                return FileOperations.system.pwrite(descriptor, bytes, count, offset, path)
            },
            fdatasync: { descriptor, path in self.sync(path) { FileOperations.system.fdatasync(descriptor, path) } },
            fsync: { descriptor, path in self.sync(path) { FileOperations.system.fsync(descriptor, path) } }
        )
    }

    private func sync(_ path: String, _ call: () -> Int32) -> Int32 {
        if self.lock.withLock({ self.failing }) {
            errno = EIO
            return -1
        }
        let result = call()
        let vendorBytes = self.lock.withLock { self.vendorBytes }()
        self.lock.withLock { self.recorded.append(.sync(path: path, vendorBytes: vendorBytes)) }
        return result
    }
}
