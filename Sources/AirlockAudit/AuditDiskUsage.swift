import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How much room an audit directory takes and how much its file system has left: what the proxy's space guard
/// watches, so the log stops taking requests before the disk is full rather than when it is.
public struct AuditDiskUsage: Sendable, Equatable {
    /// Bytes available to an unprivileged writer on the directory's file system (`statvfs` `f_bavail`).
    public var freeBytes: Int
    /// Bytes allocated on disk by everything under the directory: log files (with their zero-filled tails), body
    /// packs, set-aside torn lines.
    public var directoryBytes: Int

    public init(freeBytes: Int, directoryBytes: Int) {
        self.freeBytes = freeBytes
        self.directoryBytes = directoryBytes
    }

    /// Measures `directory`: one `statvfs` and one `lstat` per file under it (a few hundred files for a log of tens
    /// of gigabytes at the default rotation size). Blocking: call it off any event loop.
    public static func measure(_ directory: URL) throws(AuditError) -> AuditDiskUsage {
        let root = directory.standardizedFileURL.path
        var fileSystem = statvfs()
        guard statvfs(root, &fileSystem) == 0 else {
            throw AuditError.posix(.unwritable, "cannot measure free space", path: root, errno: errno)
        }
        let free = Int(fileSystem.f_bavail) &* Int(fileSystem.f_frsize)
        return AuditDiskUsage(freeBytes: free, directoryBytes: Self.allocatedBytes(under: root))
    }

    /// Allocated bytes of `path` and, for a directory, of everything under it (symbolic links are not followed).
    private static func allocatedBytes(under path: String) -> Int {
        var info = stat()
        guard lstat(path, &info) == 0 else { return 0 }
        var total = Int(info.st_blocks) &* 512
        guard (info.st_mode & S_IFMT) == S_IFDIR else { return total }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
            total &+= Self.allocatedBytes(under: path + "/" + name)
        }
        return total
    }
}
