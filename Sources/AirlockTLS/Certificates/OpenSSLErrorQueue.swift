internal import COpenSSL

/// OpenSSL keeps a per-thread queue of errors; each operation clears it first so that what we report is its own.
enum OpenSSLErrorQueue {
    static func clear() {
        ERR_clear_error()
    }

    struct Entry {
        var reason: Int32
        var text: String
    }

    static func drain() -> [String] {
        drainCodes().map(\.text)
    }

    static func drainCodes() -> [Entry] {
        var entries: [Entry] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            let text = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            entries.append(Entry(reason: ERR_GET_REASON(code), text: text))
        }
        return entries
    }
}
