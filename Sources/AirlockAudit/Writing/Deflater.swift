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

/// A zlib deflate stream kept for reuse. Setting one up allocates and clears about 270 KB of window and hash
/// tables, which costs fifteen times what compressing a 4 KB body does; `deflateReset` keeps them.
///
/// Not thread-safe: a deflater is used by one thread at a time, between ``Pool/take()`` and ``Pool/give(_:)``.
final class Deflater: @unchecked Sendable {
    private let stream: UnsafeMutablePointer<z_stream>

    init() {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let initialised = deflateInit2_(
            stream,
            1,
            Z_DEFLATED,
            15 + 16,
            8,
            Z_DEFAULT_STRATEGY,
            ZLIB_VERSION,
            Int32(MemoryLayout<z_stream>.size)
        )
        precondition(initialised == Z_OK, "deflateInit2 fails only without memory")
    }

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        scratch.deallocate()
    }

    /// Scratch output for small bodies, so that their result is allocated at its exact size (small allocations stay
    /// in the allocator's per-thread caches, also when the writer thread frees them).
    private var scratch: UnsafeMutableBufferPointer<UInt8> = .allocate(capacity: Deflater.scratchCapacity)
    private static let scratchCapacity = 64 * 1024

    /// One complete gzip member of `input`.
    func gzip(_ input: UnsafeRawBufferPointer) -> [UInt8] {
        precondition(deflateReset(stream) == Z_OK, "deflateReset of an initialised stream cannot fail")
        let bound = Int(deflateBound(stream, uLong(input.count))) + 32
        if bound <= scratch.count {
            let produced = deflate(input, into: scratch)
            return Array(scratch[0..<produced])
        }
        return [UInt8](unsafeUninitializedCapacity: bound) { output, produced in
            produced = deflate(input, into: output)
        }
    }

    /// Compresses all of `input` into `output`, which must hold `deflateBound` bytes; returns the bytes produced.
    private func deflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<UInt8>) -> Int {
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        stream.pointee.next_out = output.baseAddress
        stream.pointee.avail_out = uInt(output.count)
        let status = CZlib.deflate(stream, Z_FINISH)
        precondition(status == Z_STREAM_END, "deflate into a deflateBound buffer finishes in one call")
        stream.pointee.next_in = nil
        stream.pointee.next_out = nil
        return Int(stream.pointee.total_out)
    }

    /// A few deflaters shared by all threads; more are made when all are in use, and at most `limit` are kept.
    final class Pool: @unchecked Sendable {
        // `@unchecked`: `idle` is only touched under `lock`.
        private let lock = NSLock()
        private var idle: [Deflater] = []
        private let limit: Int

        init(limit: Int) { self.limit = limit }

        func take() -> Deflater {
            lock.lock()
            let deflater = idle.popLast()
            lock.unlock()
            return deflater ?? Deflater()
        }

        func give(_ deflater: Deflater) {
            lock.lock()
            if idle.count < limit { idle.append(deflater) }
            lock.unlock()
        }
    }

    static let pool = Pool(limit: 8)
}
