import AirlockSupport
internal import CZlib
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The store of forwarded bodies under `bodies/`: append-only pack files (`pack-NNNNNN.gz`) of gzip members, one
/// member per distinct body. A decision record names its body by SHA-256 (`forwarded_sha256`) and by location
/// (`body`: `pack-000001.gz:OFFSET:LENGTH`); the reader checks the bytes against the hash before showing them.
/// Only bodies as forwarded (after redaction) are ever given to it.
///
/// One pack append and one fsync per batch: storing a thousand bodies costs what storing one does, where a file per
/// body would cost two fsyncs (file and directory) each, and the journal commits them one by one.
enum BodyStore {
    static let directory = "bodies"

    private static let numbering = NumberedFileName(prefix: "pack-", suffix: ".gz")

    static func packName(index: Int) -> String { numbering.name(index: index) }

    static func packIndex(of name: String) -> Int? { numbering.index(of: name) }

    /// A body's location: pack file name, byte offset, compressed length.
    struct Reference: Equatable {
        var pack: String
        var offset: Int
        var length: Int

        var text: String { "\(pack):\(offset):\(length)" }

        init(pack: String, offset: Int, length: Int) {
            self.pack = pack
            self.offset = offset
            self.length = length
        }

        init?(_ text: String) {
            let parts = text.split(separator: ":")
            guard parts.count == 3, BodyStore.packIndex(of: String(parts[0])) != nil, let offset = Int(parts[1]),
                let length = Int(parts[2]), offset >= 0, length > 0
            else { return nil }
            self.init(pack: String(parts[0]), offset: offset, length: length)
        }
    }

    /// Reads a stored body and checks that it still hashes to `sha256`.
    static func read(root: String, reference text: String, sha256: String) throws(AuditError) -> [UInt8] {
        let reference = try parse(text)
        let file = try openPack(root: root, reference.pack)
        defer { file.close() }
        return try read(file, root: root, reference: reference, sha256: sha256)
    }

    static func parse(_ text: String) throws(AuditError) -> Reference {
        guard let reference = Reference(text) else {
            throw AuditError(.corrupt, "body reference '\(text)' is not PACK:OFFSET:LENGTH")
        }
        return reference
    }

    /// Opens a pack for reading bodies from it; the caller closes it.
    static func openPack(root: String, _ pack: String) throws(AuditError) -> POSIXFile {
        let path = "\(root)/\(directory)/\(pack)"
        guard POSIXFile.exists(path) else {
            throw AuditError(.notFound, "the body pack \(path) is missing")
        }
        return try POSIXFile.open(path, flags: O_RDONLY)
    }

    /// Reads a stored body from its open pack and checks that it still hashes to `sha256`.
    static func read(
        _ file: POSIXFile,
        root: String,
        reference: Reference,
        sha256: String
    ) throws(AuditError) -> [UInt8] {
        let path = "\(root)/\(directory)/\(reference.pack)"
        let text = reference.text
        let compressed = try file.read(offset: reference.offset, count: reference.length)
        guard compressed.count == reference.length else {
            throw AuditError(.corrupt, "\(path) ends before body \(sha256) (\(text)): it was truncated")
        }
        let body = try gunzip(compressed, source: "\(reference.pack) at \(reference.offset)")
        guard SHA256.hex(body) == sha256 else {
            throw AuditError(.corrupt, "stored body \(sha256) (\(text)) does not match its hash: it was altered")
        }
        return body
    }

    /// One gzip member of `input` at zlib level 1: bodies are small JSON that level 1 already shrinks several-fold,
    /// and higher levels cost several times the CPU on the proxy's event loops for a few percent.
    static func gzip(_ input: UnsafeRawBufferPointer) -> [UInt8] {
        let deflater = Deflater.pool.take()
        defer { Deflater.pool.give(deflater) }
        return deflater.gzip(input)
    }

    static func gzip(_ input: [UInt8]) -> [UInt8] {
        input.withUnsafeBytes { gzip($0) }
    }

    /// Decompresses one gzip member, or with `allMembers` a whole pack of concatenated members.
    static func gunzip(_ input: [UInt8], source: String, allMembers: Bool = false) throws(AuditError) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw AuditError(.corrupt, "cannot start decompressing \(source)")
        }
        defer { inflateEnd(&stream) }
        var input = input
        var output = [UInt8]()
        // Bodies are mostly small: a chunk the size of what they inflate to, up to 64 KiB (zeroing a 64 KiB chunk
        // costs more than inflating a 4 KB body).
        var chunk = [UInt8](repeating: 0, count: min(1 << 16, max(1 << 12, input.count * 8)))
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
                if status == Z_STREAM_END {
                    guard allMembers, stream.avail_in > 0 else { return status }
                    // A pack being written, or left by a crash, ends in zeros: no member starts with a zero byte.
                    let rest = UnsafeBufferPointer(start: stream.next_in, count: Int(stream.avail_in))
                    if !rest.contains(where: { $0 != 0 }) { return status }
                    inflateReset(&stream)
                    continue
                }
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
