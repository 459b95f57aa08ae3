import AirlockSupport
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A swift-log handler writing one JSON object per line (`airlock serve --log-format json`):
///
///     {"time":"2026-12-07T19:45:09.123Z","level":"info","label":"airlock","message":"…","fields":{"airlock.vendor":"scale"}}
///
/// Every string (message, metadata keys and values) is escaped with ``JSONString``, so a line feed in a message or a
/// value becomes `\n` and no record ever spans two lines; each record is written with one `write(2)` under a lock,
/// so records from different threads never interleave. Nested metadata (arrays, dictionaries) stays nested JSON.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info
    private let label: String
    private let output: LogOutput

    /// A handler writing to `descriptor` (standard error by default).
    public init(label: String, descriptor: Int32 = 2) {
        self.label = label
        self.output = LogOutput.shared(descriptor)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = self.metadata
        if let provided = self.metadataProvider?.get() { fields.merge(provided) { _, new in new } }
        if let own = event.metadata { fields.merge(own) { _, new in new } }
        self.output.write(Self.line(event: event, label: self.label, fields: fields))
    }

    /// One record, ending in a line feed.
    static func line(event: LogEvent, label: String, fields: Logger.Metadata) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160)
        out.append(contentsOf: #"{"time":""#.utf8)
        out.append(contentsOf: RFC3339.now().utf8)
        out.append(contentsOf: #"","level":""#.utf8)
        out.append(contentsOf: event.level.rawValue.utf8)
        out.append(contentsOf: #"","label":"#.utf8)
        JSONString.appendQuoted(label, to: &out)
        out.append(contentsOf: #","message":"#.utf8)
        JSONString.appendQuoted(event.message.description, to: &out)
        out.append(contentsOf: #","fields":"#.utf8)
        Self.append(.dictionary(fields), to: &out)
        out.append(contentsOf: "}\n".utf8)
        return out
    }

    private static func append(_ value: Logger.Metadata.Value, to out: inout [UInt8]) {
        switch value {
        case .string(let text):
            JSONString.appendQuoted(text, to: &out)
        case .stringConvertible(let convertible):
            // Counts, sizes and durations stay numbers.
            switch convertible {
            case let integer as any BinaryInteger:
                out.append(contentsOf: "\(integer)".utf8)
            case let number as Double where number.isFinite:
                out.append(contentsOf: "\(number)".utf8)
            default:
                JSONString.appendQuoted(convertible.description, to: &out)
            }
        case .array(let values):
            out.append(UInt8(ascii: "["))
            for (index, element) in values.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.append(element, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .dictionary(let entries):
            out.append(UInt8(ascii: "{"))
            // Sorted: the same fields always come out in the same order.
            for (index, key) in entries.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONString.appendQuoted(key, to: &out)
                out.append(UInt8(ascii: ":"))
                Self.append(entries[key]!, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }
}

#if canImport(Glibc)
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
private let systemWrite = Darwin.write
#endif

/// A file descriptor records are written to whole, one at a time.
final class LogOutput: Sendable {
    private let descriptor: Int32
    private let lock = Mutex(())
    private static let outputs = Mutex<[Int32: LogOutput]>([:])

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// One output per descriptor, shared by every handler writing to it.
    static func shared(_ descriptor: Int32) -> LogOutput {
        Self.outputs.withLock { outputs in
            if let existing = outputs[descriptor] { return existing }
            let output = LogOutput(descriptor: descriptor)
            outputs[descriptor] = output
            return output
        }
    }

    func write(_ bytes: [UInt8]) {
        self.lock.withLock { _ in
            bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = systemWrite(self.descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0 && errno == EINTR {
                        continue
                    } else {
                        return
                    }
                }
            }
        }
    }
}
