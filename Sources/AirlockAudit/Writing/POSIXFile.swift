#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file descriptor with the few calls the log needs, each turning errno into an ``AuditError``.
/// Not thread-safe: owned by one thread at a time.
struct POSIXFile {
    let descriptor: Int32
    let path: String
    /// Where positioned writes and syncs go (the system calls, or a test's layer).
    var operations = FileOperations.system

    static func open(
        _ path: String,
        flags: Int32,
        mode: mode_t = 0o640,
        operations: FileOperations = .system
    ) throws(AuditError) -> POSIXFile {
        while true {
            let descriptor = systemOpen(path, flags | O_CLOEXEC, mode)
            if descriptor >= 0 { return POSIXFile(descriptor: descriptor, path: path, operations: operations) }
            if errno == EINTR { continue }
            throw AuditError.posix(.unwritable, "cannot open", path: path, errno: errno)
        }
    }

    /// Writes every byte or throws; a short write is continued, never silently accepted.
    func write(_ bytes: [UInt8]) throws(AuditError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                systemWrite(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw AuditError.posix(.writeFailed, "cannot write", path: path, errno: errno)
            }
            if written == 0 { throw AuditError(.writeFailed, "cannot write \(path): the kernel accepted 0 bytes") }
            offset += written
        }
    }

    /// Writes every byte at `offset` (the file position is not used) or throws.
    func write(_ bytes: [UInt8], at offset: Int) throws(AuditError) {
        if let error = bytes.withUnsafeBytes({ write($0, at: offset) }) { throw error }
    }

    private func write(_ buffer: UnsafeRawBufferPointer, at offset: Int) -> AuditError? {
        var done = 0
        while done < buffer.count {
            let written = operations.pwrite(
                descriptor,
                buffer.baseAddress! + done,
                buffer.count - done,
                offset + done,
                path
            )
            if written < 0 {
                if errno == EINTR { continue }
                return AuditError.posix(.writeFailed, "cannot write", path: path, errno: errno)
            }
            if written == 0 { return AuditError(.writeFailed, "cannot write \(path): the kernel accepted 0 bytes") }
            done += written
        }
        return nil
    }

    /// Writes zeros over `range` (allocating the blocks where the file grows).
    func zeroFill(_ range: Range<Int>) throws(AuditError) {
        var offset = range.lowerBound
        while offset < range.upperBound {
            let count = min(POSIXFile.zeros.count, range.upperBound - offset)
            let error = POSIXFile.zeros.withUnsafeBytes { buffer in
                write(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), at: offset)
            }
            if let error { throw error }
            offset += count
        }
    }

    private static let zeros = [UInt8](repeating: 0, count: 256 * 1024)

    /// `fdatasync`: the data, and only the metadata needed to read it back (not the times). In a file whose blocks
    /// are already allocated and whose size does not change this is one data write and a cache flush.
    func dataSync() throws(AuditError) {
        while operations.fdatasync(descriptor, path) != 0 {
            if errno == EINTR { continue }
            throw AuditError.posix(.syncFailed, "cannot fdatasync", path: path, errno: errno)
        }
    }

    func sync() throws(AuditError) {
        while operations.fsync(descriptor, path) != 0 {
            if errno == EINTR { continue }
            throw AuditError.posix(.syncFailed, "cannot fsync", path: path, errno: errno)
        }
    }

    func truncate(to length: Int) throws(AuditError) {
        while ftruncate(descriptor, off_t(length)) != 0 {
            if errno == EINTR { continue }
            throw AuditError.posix(.writeFailed, "cannot truncate", path: path, errno: errno)
        }
    }

    func size() throws(AuditError) -> Int {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw AuditError.posix(.corrupt, "cannot stat", path: path, errno: errno)
        }
        return Int(info.st_size)
    }

    func readAll() throws(AuditError) -> [UInt8] {
        var out = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var offset: off_t = 0
        while true {
            let count = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, offset) }
            if count < 0 {
                if errno == EINTR { continue }
                throw AuditError.posix(.corrupt, "cannot read", path: path, errno: errno)
            }
            if count == 0 { return out }
            out.append(contentsOf: chunk[0..<count])
            offset += off_t(count)
        }
    }

    /// Up to `count` bytes at `offset` (fewer only at the end of the file).
    func read(offset: Int, count: Int) throws(AuditError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = out.withUnsafeMutableBytes { buffer in
                pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset + done))
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw AuditError.posix(.corrupt, "cannot read", path: path, errno: errno)
            }
            if got == 0 { break }
            done += got
        }
        out.removeSubrange(done...)
        return out
    }

    func close() { _ = systemClose(descriptor) }

    /// Makes a directory entry (a created or renamed file) durable.
    static func syncDirectory(_ path: String, operations: FileOperations = .system) throws(AuditError) {
        let directory = try POSIXFile.open(path, flags: O_RDONLY | O_DIRECTORY, operations: operations)
        defer { directory.close() }
        try directory.sync()
    }

    /// Creates one directory level; returns true if it was created (so the caller syncs the parent).
    static func makeDirectory(_ path: String) throws(AuditError) -> Bool {
        if mkdir(path, 0o750) == 0 { return true }
        let failure = errno
        var info = stat()
        if failure == EEXIST, stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR { return false }
        throw AuditError.posix(.unwritable, "cannot create directory", path: path, errno: failure)
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    static func rename(_ from: String, _ to: String) throws(AuditError) {
        guard systemRename(from, to) == 0 else {
            throw AuditError.posix(.writeFailed, "cannot rename to", path: to, errno: errno)
        }
    }

    static func remove(_ path: String) { _ = unlink(path) }

    static func readFile(_ path: String) throws(AuditError) -> [UInt8] {
        let file = try POSIXFile.open(path, flags: O_RDONLY)
        defer { file.close() }
        return try file.readAll()
    }
}

// The C names, spelled so they do not collide with the methods above.
private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }
private func systemClose(_ fd: Int32) -> Int32 { close(fd) }
private func systemRename(_ from: String, _ to: String) -> Int32 { rename(from, to) }
