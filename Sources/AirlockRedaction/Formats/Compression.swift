internal import CZlib
import Foundation

/// A Content-Encoding Airlock can decode and re-encode.
enum ContentCoding: Sendable {
    case identity
    case gzip
    /// HTTP `deflate`: a zlib stream (RFC 1950). Raw deflate (RFC 1951), which some clients send, is accepted too.
    case deflate

    /// Parses a Content-Encoding header value. `nil` means a coding Airlock cannot inspect (br, zstd, stacked codings).
    init?(header: String?) {
        guard let header else {
            self = .identity
            return
        }
        switch header.trimmingCharacters(in: .whitespaces).lowercased() {
        case "", "identity": self = .identity
        case "gzip", "x-gzip": self = .gzip
        case "deflate": self = .deflate
        default: return nil
        }
    }
}

enum Compression {
    struct Failure: Error {
        var reason: String
    }

    /// Decompresses a whole body: every member of a multi-member gzip body. Fails on a corrupt or truncated stream,
    /// trailing bytes that are not a gzip member, or a limit exceeded (the limits count all members together).
    static func decompress(
        _ input: UnsafeBufferPointer<UInt8>,
        coding: ContentCoding,
        limits: DecompressionLimits
    )
        throws(Failure) -> [UInt8]
    {
        try decompressNotingMetadata(input, coding: coding, limits: limits).bytes
    }

    /// `decompress`, and whether a gzip member's header carries metadata (RFC 1952 FEXTRA, FNAME, FCOMMENT: the
    /// original file name, a comment, extra fields), bytes the body carries that are not its content: a caller that
    /// forwards the body must not forward them as they are.
    static func decompressNotingMetadata(
        _ input: UnsafeBufferPointer<UInt8>,
        coding: ContentCoding,
        limits: DecompressionLimits
    )
        throws(Failure) -> (bytes: [UInt8], metadata: Bool)
    {
        switch coding {
        case .identity:
            return (Array(input), false)
        case .gzip:
            return try inflate(input, windowBits: 15 + 16, name: "gzip", limits: limits)
        case .deflate:
            do {
                return try inflate(input, windowBits: 15, name: "deflate", limits: limits)
            } catch {
                // Some clients send raw deflate for `deflate`; only fall back when the zlib header itself is wrong.
                guard error.reason.hasPrefix("deflate: incorrect header") else { throw error }
                return try inflate(input, windowBits: -15, name: "deflate", limits: limits)
            }
        }
    }

    /// RFC 1952 FLG bits of a gzip member header that announce metadata: FEXTRA, FNAME, FCOMMENT.
    private static let gzipMetadataFlags: UInt8 = 0x04 | 0x08 | 0x10

    /// Whether the gzip member starting at `start` announces metadata (its header is checked by zlib).
    private static func gzipMemberCarriesMetadata(_ input: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
        start + 3 < input.count && input[start + 3] & gzipMetadataFlags != 0
    }

    static func compress(_ input: [UInt8], coding: ContentCoding) -> [UInt8] {
        switch coding {
        case .identity: return input
        case .gzip: return deflate(input, windowBits: 15 + 16)
        case .deflate: return deflate(input, windowBits: 15)
        }
    }

    private static func inflate(
        _ input: UnsafeBufferPointer<UInt8>,
        windowBits: Int32,
        name: String,
        limits: DecompressionLimits
    ) throws(Failure) -> (bytes: [UInt8], metadata: Bool) {
        guard input.count > 0, let base = input.baseAddress else {
            throw Failure(reason: "\(name): empty stream")
        }
        var stream = z_stream()
        guard inflateInit2_(&stream, windowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw Failure(reason: "\(name): zlib could not start")
        }
        defer { inflateEnd(&stream) }
        stream.next_in = UnsafeMutablePointer(mutating: base)
        stream.avail_in = UInt32(input.count)
        var output = [UInt8]()
        let gzip = windowBits > 15
        var metadata = gzip && gzipMemberCarriesMetadata(input, at: 0)
        var chunk = [UInt8](repeating: 0, count: min(max(input.count * 4, 16 << 10), 1 << 20))
        while true {
            let status = chunk.withUnsafeMutableBufferPointer { buffer -> Int32 in
                stream.next_out = buffer.baseAddress
                stream.avail_out = UInt32(buffer.count)
                return CZlib.inflate(&stream, Z_NO_FLUSH)
            }
            let produced = chunk.count - Int(stream.avail_out)
            output.append(contentsOf: chunk[0..<produced])
            if output.count > limits.maxBytes {
                let setting = limits.setting.map { ", \($0)" } ?? ""
                throw Failure(
                    reason: "\(name): the decompressed body exceeds the size limit (\(limits.maxBytes) bytes\(setting))"
                )
            }
            // Counted here, not by zlib: `inflateReset` between gzip members zeroes `total_in`.
            let consumed = input.count - Int(stream.avail_in)
            if output.count > limits.ratioFloor && output.count / max(consumed, 1) > limits.maxRatio {
                throw Failure(reason: "\(name): compression ratio exceeds \(limits.maxRatio):1")
            }
            switch status {
            case Z_STREAM_END:
                guard stream.avail_in != 0 else { return (output, metadata) }
                // A gzip file may hold several members one after another (`cat a.gz b.gz`, RFC 1952 2.2): each is
                // decoded in turn, its header checked by zlib like the first one's (so trailing garbage that is not
                // a member is refused as a bad header). A zlib stream has no members: bytes after it are refused.
                guard gzip else { throw Failure(reason: "\(name): trailing bytes after the stream") }
                guard inflateReset(&stream) == Z_OK else { throw Failure(reason: "\(name): zlib could not restart") }
                metadata = metadata || gzipMemberCarriesMetadata(input, at: consumed)
                continue
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                if stream.avail_in == 0 { throw Failure(reason: "\(name): truncated stream") }
                continue
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                throw Failure(reason: "\(name): \(message)")
            }
        }
    }

    private static func deflate(_ input: [UInt8], windowBits: Int32) -> [UInt8] {
        var stream = z_stream()
        let ok = deflateInit2_(
            &stream,
            Z_DEFAULT_COMPRESSION,
            Z_DEFLATED,
            windowBits,
            8,
            Z_DEFAULT_STRATEGY,
            zlibVersion(),
            Int32(MemoryLayout<z_stream>.size)
        )
        precondition(ok == Z_OK, "deflateInit2 failed: out of memory")
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 64)
        var input = input
        let status = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer -> Int32 in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = UInt32(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = UInt32(outBuffer.count)
                return CZlib.deflate(&stream, Z_FINISH)
            }
        }
        precondition(status == Z_STREAM_END, "deflate with a deflateBound-sized buffer did not finish")
        output.removeLast(Int(stream.avail_out))
        return output
    }
}
