internal import CVectorscan
import Foundation

/// One expression handed to Vectorscan: its text, flags and the id reported back on a match.
struct VectorscanExpression {
    var pattern: String
    var flags: UInt32
    var id: UInt32
}

/// Why Vectorscan refused a set of expressions: the index of the expression (when it names one) and its reason.
struct VectorscanCompileFailure: Error {
    var expressionIndex: Int?
    var message: String
}

/// A compiled Vectorscan block-mode database. Immutable after `init`, so it is shared freely between threads; every
/// concurrent scan needs its own scratch (see `ScratchPool`).
final class VectorscanDatabase: @unchecked Sendable {
    let pointer: OpaquePointer

    /// Compiles `expressions` into one database. `som` asks for start-of-match on every expression (only used for the
    /// small window database that resolves regex starts; never for the main scan).
    init(expressions: [VectorscanExpression], som: Bool) throws(VectorscanCompileFailure) {
        precondition(!expressions.isEmpty, "Vectorscan cannot compile an empty expression set")
        var cStrings: [UnsafePointer<CChar>?] = expressions.map { UnsafePointer(strdup($0.pattern)) }
        defer { for string in cStrings { free(UnsafeMutablePointer(mutating: string)) } }
        var flags = expressions.map { $0.flags | (som ? UInt32(HS_FLAG_SOM_LEFTMOST) : 0) }
        var ids = expressions.map(\.id)
        var database: OpaquePointer?
        var compileError: UnsafeMutablePointer<hs_compile_error_t>?
        let mode = UInt32(HS_MODE_BLOCK)
        let status = hs_compile_multi(
            &cStrings,
            &flags,
            &ids,
            UInt32(expressions.count),
            mode,
            nil,
            &database,
            &compileError
        )
        guard status == HS_SUCCESS, let database else {
            var failure = VectorscanCompileFailure(expressionIndex: nil, message: "Vectorscan error \(status)")
            if let compileError {
                failure.message = String(cString: compileError.pointee.message)
                let index = Int(compileError.pointee.expression)
                failure.expressionIndex = index >= 0 ? index : nil
                hs_free_compile_error(compileError)
            }
            throw failure
        }
        self.pointer = database
    }

    deinit {
        hs_free_database(pointer)
    }

    /// The fewest bytes a match of `pattern` spans (0 when it is unknown), and the most (`nil`: unbounded or unknown).
    static func widths(of pattern: String, flags: UInt32) -> (min: Int, max: Int?) {
        var info: UnsafeMutablePointer<hs_expr_info_t>?
        var compileError: UnsafeMutablePointer<hs_compile_error_t>?
        let status = pattern.withCString { hs_expression_info($0, flags, &info, &compileError) }
        if let compileError { hs_free_compile_error(compileError) }
        guard status == HS_SUCCESS, let info else { return (0, nil) }
        defer { free(info) }
        let width = info.pointee.max_width
        return (Int(info.pointee.min_width), width == UInt32.max ? nil : Int(width))
    }
}

/// A match reported by the fast scan: which expression, and the offset just past its last byte.
struct Hit {
    var id: UInt32
    var end: Int
}

/// A match reported by the start-of-match scan.
struct SpanHit {
    var id: UInt32
    var start: Int
    var end: Int
}

/// Collects matches during one `hs_scan`. Passed to the C callback as an unretained context pointer.
final class HitSink {
    var hits: [Hit] = []
    var spans: [SpanHit] = []
    /// Added to every reported offset (a window scan reports offsets relative to the window).
    var base = 0
    /// A scan stops after this many matches; the caller then refuses the body rather than redact it partially.
    var maxHits = 4_000_000
    /// The status of the last scan that failed (anything but success or a stop asked for by `maxHits`); a failed
    /// scan may have missed matches, so the caller must refuse the body.
    var failure: hs_error_t?
}

private let collectEnds: match_event_handler = { id, _, to, _, context in
    let sink = Unmanaged<HitSink>.fromOpaque(context!).takeUnretainedValue()
    if sink.hits.count >= sink.maxHits { return 1 }
    sink.hits.append(Hit(id: id, end: sink.base + Int(to)))
    return 0
}

private let stopAtFirst: match_event_handler = { _, _, _, _, _ in 1 }

private let collectSpans: match_event_handler = { id, from, to, _, context in
    let sink = Unmanaged<HitSink>.fromOpaque(context!).takeUnretainedValue()
    if sink.spans.count >= sink.maxHits { return 1 }
    sink.spans.append(SpanHit(id: id, start: sink.base + Int(from), end: sink.base + Int(to)))
    return 0
}

/// Scratch spaces for concurrent scans, sized for every database of one `Redactor`. A caller takes one for the
/// duration of a request and gives it back; a new one is cloned when all are in use.
final class ScratchPool: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [OpaquePointer] = []
    private let prototype: OpaquePointer?

    init(databases: [VectorscanDatabase]) {
        var scratch: OpaquePointer?
        for database in databases {
            let status = hs_alloc_scratch(database.pointer, &scratch)
            precondition(status == HS_SUCCESS, "hs_alloc_scratch failed (\(status)): out of memory")
        }
        prototype = scratch
    }

    deinit {
        for scratch in free { hs_free_scratch(scratch) }
        if let prototype { hs_free_scratch(prototype) }
    }

    func take() -> OpaquePointer? {
        guard let prototype else { return nil }
        lock.lock()
        if let scratch = free.popLast() {
            lock.unlock()
            return scratch
        }
        lock.unlock()
        var clone: OpaquePointer?
        let status = hs_clone_scratch(prototype, &clone)
        precondition(status == HS_SUCCESS, "hs_clone_scratch failed (\(status)): out of memory")
        return clone
    }

    func give(_ scratch: OpaquePointer?) {
        guard let scratch else { return }
        lock.lock()
        free.append(scratch)
        lock.unlock()
    }
}

extension VectorscanDatabase {
    /// Appends the end offset of every match in `bytes` to `sink.hits` (offsets shifted by `sink.base`).
    func scanEnds(_ bytes: UnsafeBufferPointer<UInt8>, scratch: OpaquePointer?, into sink: HitSink) {
        scan(bytes, scratch: scratch, into: sink, handler: collectEnds)
    }

    /// Whether anything matches, or the scan failed (so the caller looks closer instead of trusting it): stops at
    /// the first match, allocates nothing.
    func anyMatchOrFailure(_ bytes: UnsafeBufferPointer<UInt8>, scratch: OpaquePointer?) -> Bool {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return false }
        return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) { chars in
            hs_scan(pointer, chars, UInt32(bytes.count), 0, scratch, stopAtFirst, nil) != HS_SUCCESS
        }
    }

    /// Appends every match with its leftmost start to `sink.spans`. Only for databases compiled with `som: true`.
    func scanSpans(_ bytes: UnsafeBufferPointer<UInt8>, scratch: OpaquePointer?, into sink: HitSink) {
        scan(bytes, scratch: scratch, into: sink, handler: collectSpans)
    }

    /// Scans `bytes` with `handler` collecting into `sink`; a scan error is left in `sink.failure`.
    @inline(__always)
    private func scan(
        _ bytes: UnsafeBufferPointer<UInt8>,
        scratch: OpaquePointer?,
        into sink: HitSink,
        handler: match_event_handler
    ) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let context = Unmanaged.passUnretained(sink).toOpaque()
        base.withMemoryRebound(to: CChar.self, capacity: bytes.count) { chars in
            let status = hs_scan(pointer, chars, UInt32(bytes.count), 0, scratch, handler, context)
            if status != HS_SUCCESS && status != HS_SCAN_TERMINATED { sink.failure = status }
        }
    }
}
