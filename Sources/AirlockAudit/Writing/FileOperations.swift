#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The system calls through which the log's writes reach the disk: positioned writes and the two syncs. Production
/// uses ``system``; tests set ``AuditConfiguration/fileOperations`` to a layer that records the calls (to check that a
/// record is synced before its request leaves) or fails them (a failing `fdatasync`, a crash inside a write).
///
/// Each call has the C function's contract: it returns what the C call would and sets `errno` on failure.
struct FileOperations: Sendable {
    var pwrite:
        @Sendable (_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int, _ offset: Int, _ path: String)
            -> Int
    var fdatasync: @Sendable (_ descriptor: Int32, _ path: String) -> Int32
    var fsync: @Sendable (_ descriptor: Int32, _ path: String) -> Int32

    static let system = FileOperations(
        pwrite: { descriptor, bytes, count, offset, _ in systemPwrite(descriptor, bytes, count, off_t(offset)) },
        fdatasync: { descriptor, _ in systemFdatasync(descriptor) },
        fsync: { descriptor, _ in systemFsync(descriptor) }
    )
}

// The C names, spelled so they do not collide with the properties above.
private func systemPwrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int, _ offset: off_t) -> Int {
    pwrite(fd, bytes, count, offset)
}
private func systemFdatasync(_ fd: Int32) -> Int32 { fdatasync(fd) }
private func systemFsync(_ fd: Int32) -> Int32 { fsync(fd) }
