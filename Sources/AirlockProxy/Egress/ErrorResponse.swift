import AirlockSupport
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
        text += JSONString.quoted(value)
    }
}
