import NIOCore
import NIOHTTP1

/// The JSON body of every refusal: `{"error": {"code": "...", "message": "...", "rule": "..."}}`.
enum ErrorResponse {
    static func body(_ refusal: EgressRefusal, allocator: ByteBufferAllocator) -> ByteBuffer {
        var text = "{\"error\": {\"code\": "
        Self.appendJSONString(refusal.code, to: &text)
        if let rule = refusal.rule {
            text += ", \"rule\": "
            Self.appendJSONString(rule, to: &text)
        }
        text += ", \"message\": "
        Self.appendJSONString(refusal.message, to: &text)
        text += "}}\n"
        return allocator.buffer(string: text)
    }

    static func appendJSONString(_ value: String, to text: inout String) {
        text.append("\"")
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text.append("\\\"")
            case "\\": text.append("\\\\")
            case "\n": text.append("\\n")
            case "\r": text.append("\\r")
            case "\t": text.append("\\t")
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    text.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
                } else {
                    text.unicodeScalars.append(scalar)
                }
            }
        }
        text.append("\"")
    }
}
