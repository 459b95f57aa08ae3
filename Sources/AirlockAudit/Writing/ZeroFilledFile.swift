#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file appended to in place: zeros are written ahead of its content, so that an append changes no metadata and an
/// `fdatasync` makes it durable with one data write. Used for the log files and the body packs alike; readers stop
/// at the content's end (``LogFiles/extent(of:)`` for log files, offsets and lengths for packs).
///
/// Not thread-safe: owned by the writer thread.
struct ZeroFilledFile {
    let file: POSIXFile
    /// Where the content ends: appends go here.
    private(set) var size: Int
    /// The file's size on disk: from `size` on it holds zeros.
    private(set) var capacity: Int

    /// Takes over `file`, whose content ends at `size` and which holds nothing past it.
    init(_ file: POSIXFile, size: Int = 0) {
        self.file = file
        self.size = size
        self.capacity = size
    }

    /// Creates `name` in `directory` for appending (or takes it when a crash left it empty), with its directory
    /// entry made durable. A file that already has content was not created by this writer and is refused.
    static func create(
        _ name: String,
        in directory: String,
        operations: FileOperations = .system
    ) throws(AuditError) -> ZeroFilledFile {
        let path = "\(directory)/\(name)"
        let created = try POSIXFile.open(path, flags: O_RDWR | O_CREAT, operations: operations)
        do throws(AuditError) {
            guard try created.size() == 0 else {
                throw AuditError(.corrupt, "\(path) already has content; it was not created by this writer")
            }
            try POSIXFile.syncDirectory(directory, operations: operations)
        } catch {
            created.close()
            throw error
        }
        return ZeroFilledFile(created)
    }

    /// Why an append failed, and so what the file can still be used for.
    enum AppendFailure: Error {
        /// Nothing of the bytes stayed (the write failed and was zeroed again): the next append may follow.
        case notWritten(AuditError)
        /// The write failed, and zeroing it again failed too: part of it may stay where the next append would go.
        case partlyWritten(AuditError, zeroing: AuditError)
        /// Written but not made durable: what reached the disk is unknown.
        case notSynced(AuditError)
    }

    /// One write and one sync, into the zero-filled tail (extended first when it runs out, then made durable with
    /// the bytes by a full `fsync`; otherwise an `fdatasync` with no metadata to write).
    mutating func append(_ bytes: [UInt8]) throws(AppendFailure) {
        let end = size + bytes.count
        let extended = end > capacity
        if extended {
            do { try extend(toHold: end) } catch { throw .notWritten(error) }
        }
        do {
            try file.write(bytes, at: size)
        } catch {
            do {
                try file.zeroFill(size..<end)
            } catch let zeroing {
                throw .partlyWritten(error, zeroing: zeroing)
            }
            throw .notWritten(error)
        }
        do {
            if extended { try file.sync() } else { try file.dataSync() }
        } catch {
            throw .notSynced(error)
        }
        size = end
    }

    /// Zero-fills ahead of the content so at least `end` bytes are allocated, in steps as large as the file already
    /// is (64 KiB to 1 MiB): small files stay small, busy ones extend (one full fsync) every thousand or so records,
    /// and no group waits for much more than its own bytes. Where the disk has no room for a full step, only what
    /// `end` needs (a disk-full error otherwise, with the file cut back to `capacity`).
    private mutating func extend(toHold end: Int) throws(AuditError) {
        let step = min(1 << 20, max(64 << 10, capacity))
        var lastError: AuditError?
        for target in [(end + step - 1) / step * step, (end + 4095) / 4096 * 4096] {
            do {
                try file.zeroFill(capacity..<target)
                capacity = target
                return
            } catch {
                lastError = error
                // Blocks past the old size hold nothing; a failed cut leaves zeros, which readers skip.
                try? file.truncate(to: capacity)
            }
        }
        throw lastError!
    }

    /// Cuts the unused zero-filled tail off a file the writer is done with (rotation, shutdown), so finished files
    /// end at their content. Best effort: readers skip a zero tail left behind.
    mutating func trim() {
        guard capacity > size else { return }
        do {
            try file.truncate(to: size)
            try file.sync()
            capacity = size
        } catch {
            return
        }
    }

    func close() { file.close() }
}
