internal import CZlib
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The content-addressed store of forwarded bodies: `bodies/<first two hex>/<sha256>.gz`, gzip so a reviewer can also
/// read one with `zcat`. Only bodies as forwarded (after redaction) are ever given to it.
enum BodyStore {
    static func relativePath(sha256: String) -> String {
        "bodies/\(sha256.prefix(2))/\(sha256).gz"
    }

    /// Writes a compressed body durably (temporary file, fsync, rename, fsync of its shard directory) unless it is
    /// already stored. Returns the parent directories whose entries changed (a new shard or `bodies/`), for the caller
    /// to fsync once per batch.
    static func store(
        root: String, sha256: String, compressed: [UInt8]
    ) throws(AuditError) -> StoredBody {
        let final = "\(root)/\(relativePath(sha256: sha256))"
        if POSIXFile.exists(final) { return StoredBody(written: false, changedDirectories: []) }
        var changed: [String] = []
        if try POSIXFile.makeDirectory("\(root)/bodies") { changed.append(root) }
        let shard = "\(root)/bodies/\(sha256.prefix(2))"
        if try POSIXFile.makeDirectory(shard) { changed.append("\(root)/bodies") }
        let temporary = "\(shard)/.\(sha256).\(getpid()).tmp"
        let file = try POSIXFile.open(temporary, flags: O_WRONLY | O_CREAT | O_TRUNC)
        do {
            try file.write(compressed)
            try file.sync()
            file.close()
            try POSIXFile.rename(temporary, final)
        } catch {
            file.close()
            POSIXFile.remove(temporary)
            throw error
        }
        // The shard's entry for the renamed file is synced here, in parallel with the other bodies; only the rare
        // parent changes (a new shard or a new bodies/) are left to the caller.
        try POSIXFile.syncDirectory(shard)
        return StoredBody(written: true, changedDirectories: changed)
    }

    /// Stores several bodies, up to `width` at a time on short-lived threads, and returns each one's outcome in
    /// order. Blocks until all are done.
    static func store(
        root: String, bodies: [(sha256: String, compressed: [UInt8])], width: Int
    ) -> [Result<StoredBody, AuditError>] {
        @Sendable func one(_ index: Int) -> Result<StoredBody, AuditError> {
            do {
                return .success(
                    try store(root: root, sha256: bodies[index].sha256, compressed: bodies[index].compressed))
            } catch {
                return .failure(error)
            }
        }
        if bodies.count <= 1 { return bodies.indices.map(one) }
        let results = ResultSlots(count: bodies.count)
        let workers = min(width, bodies.count)
        let done = DispatchGroup()
        for worker in 0..<workers {
            done.enter()
            Thread {
                for index in stride(from: worker, to: bodies.count, by: workers) { results[index] = one(index) }
                done.leave()
            }.start()
        }
        done.wait()
        return results.all
    }

    /// Reads a stored body and checks that it still hashes to its name.
    static func read(root: String, sha256: String) throws(AuditError) -> [UInt8] {
        let path = "\(root)/\(relativePath(sha256: sha256))"
        guard POSIXFile.exists(path) else {
            throw AuditError(.notFound, "no stored body \(sha256) under \(root)/bodies")
        }
        let body = try gunzip(try POSIXFile.readFile(path), source: path)
        guard Digest.sha256Hex(body) == sha256 else {
            throw AuditError(.corrupt, "stored body \(path) does not hash to its name: it was altered")
        }
        return body
    }

    static func gzip(_ input: [UInt8], level: Int32 = 1) -> [UInt8] {
        var stream = z_stream()
        let initialised = deflateInit2_(
            &stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)
        )
        precondition(initialised == Z_OK, "deflateInit2 fails only without memory")
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 32)
        var input = input
        let produced: Int = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = uInt(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = uInt(outBuffer.count)
                let status = deflate(&stream, Z_FINISH)
                precondition(status == Z_STREAM_END, "deflate into a deflateBound buffer finishes in one call")
                return Int(stream.total_out)
            }
        }
        output.removeSubrange(produced...)
        return output
    }

    static func gunzip(_ input: [UInt8], source: String) throws(AuditError) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw AuditError(.corrupt, "cannot start decompressing \(source)")
        }
        defer { inflateEnd(&stream) }
        var input = input
        var output = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        let status: Int32 = input.withUnsafeMutableBufferPointer { inBuffer in
            stream.next_in = inBuffer.baseAddress
            stream.avail_in = uInt(inBuffer.count)
            while true {
                let (status, produced) = chunk.withUnsafeMutableBufferPointer { outBuffer in
                    stream.next_out = outBuffer.baseAddress
                    stream.avail_out = uInt(outBuffer.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    return (status, outBuffer.count - Int(stream.avail_out))
                }
                output.append(contentsOf: chunk[0..<produced])
                if status == Z_STREAM_END { return status }
                if status != Z_OK { return status }
                if produced == 0 && stream.avail_in == 0 { return Z_BUF_ERROR }
            }
        }
        guard status == Z_STREAM_END else {
            throw AuditError(.corrupt, "\(source) is not a complete gzip stream (zlib status \(status))")
        }
        return output
    }
}

/// What storing one body did.
struct StoredBody: Sendable {
    /// False when the same bytes were already stored.
    var written: Bool
    /// Parent directories with a new entry (a new shard, a new `bodies/`), to fsync.
    var changedDirectories: [String]
}

/// Result slots filled from several threads.
private final class ResultSlots: @unchecked Sendable {
    // `@unchecked`: every access to `slots` holds `lock`.
    private let lock = NSLock()
    private var slots: [Result<StoredBody, AuditError>?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    subscript(index: Int) -> Result<StoredBody, AuditError>? {
        get { lock.withLock { slots[index] } }
        set { lock.withLock { slots[index] = newValue } }
    }

    var all: [Result<StoredBody, AuditError>] {
        lock.withLock { slots.map { $0 ?? .failure(AuditError(.writeFailed, "a body store worker did not finish")) } }
    }
}
