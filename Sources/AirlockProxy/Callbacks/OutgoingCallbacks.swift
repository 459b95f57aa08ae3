import AirlockRedaction
import Foundation
import NIOCore

/// Finds callback URLs in requests leaving for a vendor and keeps the lab's host names out of them.
///
/// A callback URL (`callback_url` and `callback` at any depth of a JSON body or NDJSON line, or as a form field, and
/// a top-level `url` on a path with a `webhooks` segment, as Label Studio's webhook API has; in a multipart body the
/// same, part by part: a text field of one of those names, and the JSON, NDJSON and form parts) that points inside the
/// lab is replaced by Airlock's public URL of the callbacks route whose `deliver_to` it names. One that names no route of the vendor, or a vendor with no
/// callbacks route at all, is refused: the vendor would otherwise call an internal host, or learn its name.
///
/// The replacement happens in two steps around the policy's redaction so the public URL can never be redacted:
/// ``prepare(_:vendor:path:finalURLs:)`` empties the internal values (an empty string matches no rule) and
/// ``reinstate(_:plan:)`` writes the public URLs into the redacted body. Bytes outside the replaced strings are
/// left as they were.
struct OutgoingCallbacks: Sendable {
    let internalHosts: InternalHosts
    /// Per vendor: its routes' targets and public URLs.
    let routes: [String: [(target: CallbackTarget, publicURL: String)]]

    static let anyDepthKeys: Set<String> = ["callback_url", "callback"]
    static let webhookKeys: Set<String> = ["url"]
    static let rule = "callback-url"

    // Built once: `prepare` runs for every request, `reinstate` for every rewritten one.
    private static let scanner = CallbackJSONScanner(anyDepthKeys: Self.anyDepthKeys, topLevelKeys: [])
    private static let webhookScanner = CallbackJSONScanner(
        anyDepthKeys: Self.anyDepthKeys,
        topLevelKeys: Self.webhookKeys
    )
    private static let webhookFormKeys = Self.anyDepthKeys.union(Self.webhookKeys)
    private static let formUnreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    )

    init(configuration: ProxyConfiguration.Callbacks?) {
        self.internalHosts = InternalHosts(globs: configuration?.internalHosts ?? [])
        var routes: [String: [(CallbackTarget, String)]] = [:]
        if let configuration {
            for route in configuration.routes {
                routes[route.vendor, default: []].append(
                    (route.deliverTo, route.publicURL(under: configuration.publicURL))
                )
            }
        }
        self.routes = routes
    }

    /// What to do with the values `prepare` emptied, once the policy has redacted the body.
    struct Plan: Sendable {
        /// Ordinal (among all callback fields of the body) -> the public URL to write there.
        var replacements: [Int: String]
        var fieldCount: Int
        /// Whether the request's path is a webhook API's (a top-level `url` is then a callback field too).
        var webhooks: Bool
        var format: BodyFormat
    }

    /// The body formats callback URLs are looked for in.
    enum BodyFormat: Sendable, Equatable {
        case json
        /// `application/x-www-form-urlencoded`
        case form
        /// NDJSON / JSON Lines (batch task uploads): every line a JSON document, looked at as `json` is.
        case jsonLines
        /// `multipart/form-data`, split as the engine splits it (the Content-Type carries the boundary).
        case multipart(contentType: String)
    }

    enum Prepared {
        /// Nothing to change.
        case untouched
        case rewritten(ByteBuffer, Plan?)
        case refuse(EgressRefusal)
    }

    /// Empties (or, with `finalURLs`, directly rewrites) internal callback URLs in `request`'s body.
    func prepare(_ request: EgressRequest, finalURLs: Bool) -> Prepared {
        let body = request.body
        guard body.readableBytes > 0, let format = Self.format(request.headers.first(name: "content-type")) else {
            return .untouched
        }
        let webhooks = Self.isWebhookPath(request.path)
        if let encoding = request.headers.first(name: "content-encoding"),
            !encoding.trimmingCharacters(in: .whitespaces).isEmpty, encoding.lowercased() != "identity"
        {
            // Callback URLs are only rewritten in bodies Airlock can edit in place: a compressed body that names one
            // inside the lab is refused. Compressed bytes never spell a key, so the check looks at what they decode
            // to; a body that does not decode is the policy's to refuse (without a policy, it is refused here when
            // its bytes may spell a key). Decoded first: a large compressed stream holds `%5`…`%7` by chance.
            let namesInternalURL = body.withUnsafeReadableBytes { bytes in
                guard let decoded = Redactor.decodedBody(bytes, contentEncoding: encoding) else {
                    return Self.mayHoldCallbackKey(bytes, webhooks: webhooks, format: format)
                }
                guard decoded.withUnsafeBytes({ Self.mayHoldCallbackKey($0, webhooks: webhooks, format: format) }),
                    let fields = try? Self.fields(of: ByteBuffer(bytes: decoded), format: format, webhooks: webhooks)
                else { return false }
                return fields.contains { CallbackURL($0.value).map { self.internalHosts.contains($0.host) } ?? false }
            }
            guard namesInternalURL else { return .untouched }
            return .refuse(
                self.refusal(
                    "the request body is compressed (Content-Encoding: \(encoding)) and may name a callback URL; "
                        + "send callback-bearing requests uncompressed so Airlock can rewrite them"
                )
            )
        }
        let mayHold = body.withUnsafeReadableBytes {
            Self.mayHoldCallbackKey($0, webhooks: webhooks, format: format)
        }
        guard mayHold else { return .untouched }
        let fields: [CallbackJSONScanner.Field]
        do {
            fields = try Self.fields(of: body, format: format, webhooks: webhooks)
        } catch {
            return .refuse(EgressRefusal(.uninspectableBody(error.message)))
        }
        var replacements: [Int: String] = [:]
        var edits: [(range: Range<Int>, text: String)] = []
        for (ordinal, field) in fields.enumerated() {
            guard let url = CallbackURL(field.value), self.internalHosts.contains(url.host) else { continue }
            guard let publicURL = self.publicURL(for: url, vendor: request.vendor) else {
                let reason =
                    self.routes[request.vendor] == nil
                    ? "vendor '\(request.vendor)' has no callbacks route, so it must not be given a callback URL "
                        + "inside the lab; add one under callbacks.routes"
                    : "it names no deliver_to of the callbacks routes of vendor '\(request.vendor)'"
                return .refuse(self.refusal("a callback URL (\(field.key)) points inside the lab: \(reason)"))
            }
            replacements[ordinal] = publicURL
            edits.append(
                (field.range, finalURLs ? Self.encoded(publicURL, field.syntax) : Self.placeholder(field.syntax))
            )
        }
        guard !edits.isEmpty else { return .untouched }
        let rewritten = Self.apply(edits, to: body)
        let plan =
            finalURLs
            ? nil
            : Plan(replacements: replacements, fieldCount: fields.count, webhooks: webhooks, format: format)
        return .rewritten(rewritten, plan)
    }

    /// Writes the public URLs into the body the policy produced from a prepared one. Fails closed when the policy
    /// removed or changed a callback field, since the URLs could then land in the wrong place.
    func reinstate(_ body: ByteBuffer, plan: Plan) -> Result<ByteBuffer, EgressRefusal> {
        let fields: [CallbackJSONScanner.Field]
        do {
            fields = try Self.fields(of: body, format: plan.format, webhooks: plan.webhooks)
        } catch {
            return .failure(self.refusal("the redacted body cannot be parsed (\(error.reason))"))
        }
        guard fields.count == plan.fieldCount else {
            return .failure(
                self.refusal("the policy removed a callback field, so the callback URL cannot be rewritten")
            )
        }
        var edits: [(range: Range<Int>, text: String)] = []
        for (ordinal, url) in plan.replacements.sorted(by: { $0.key < $1.key }) {
            let field = fields[ordinal]
            guard field.range.count == Self.placeholder(field.syntax).utf8.count else {
                return .failure(self.refusal("the policy changed a callback field being rewritten"))
            }
            edits.append((field.range, Self.encoded(url, field.syntax)))
        }
        return .success(Self.apply(edits, to: body))
    }

    private func publicURL(for url: CallbackURL, vendor: String) -> String? {
        for route in self.routes[vendor] ?? [] where url.names(route.target) {
            return route.publicURL
        }
        return nil
    }

    private func refusal(_ message: String) -> EgressRefusal {
        EgressRefusal(
            .blockedByPolicy(rule: Self.rule, reason: message),
            inspection: EgressInspection(
                policy: "callbacks",
                findings: [Finding(rule: Self.rule, action: "block", count: 1)]
            )
        )
    }

    // MARK: Bytes

    /// JSON (`application/json`, `text/json`, `*+json`), a form, NDJSON or multipart/form-data, from the Content-Type;
    /// checked on bytes, since it runs for every request. Every type the engine reads as JSON (MediaType in
    /// AirlockRedaction) must be here, or a callback URL in it would leave unchecked.
    static func format(_ contentType: String?) -> BodyFormat? {
        guard let essence = Self.essence(contentType) else { return nil }
        if Self.equalsIgnoringCase(essence, "application/json") || Self.equalsIgnoringCase(essence, "text/json") {
            return .json
        }
        if essence.count >= 5, Self.equalsIgnoringCase(essence.suffix(5), "+json") { return .json }
        if Self.equalsIgnoringCase(essence, "application/x-www-form-urlencoded") { return .form }
        if let contentType, Self.equalsIgnoringCase(essence, "multipart/form-data") {
            return .multipart(contentType: contentType)
        }
        // The media types the engine reads as JSON lines (MediaType in AirlockRedaction).
        if Self.equalsIgnoringCase(essence, "application/x-ndjson")
            || Self.equalsIgnoringCase(essence, "application/jsonl")
            || Self.equalsIgnoringCase(essence, "application/x-jsonlines")
            || Self.equalsIgnoringCase(essence, "application/jsonlines")
        {
            return .jsonLines
        }
        return nil
    }

    /// The media type without parameters or surrounding spaces.
    private static func essence(_ contentType: String?) -> Substring.UTF8View? {
        guard let contentType else { return nil }
        var view = Substring(contentType).utf8
        if let semicolon = view.firstIndex(of: UInt8(ascii: ";")) { view = view[..<semicolon] }
        while let first = view.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
            view = view.dropFirst()
        }
        while let last = view.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { view = view.dropLast() }
        return view
    }

    private static func equalsIgnoringCase(_ bytes: Substring.UTF8View, _ lower: StaticString) -> Bool {
        guard bytes.count == lower.utf8CodeUnitCount else { return false }
        var index = 0
        for byte in bytes {
            let folded = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
            guard folded == lower.utf8Start[index] else { return false }
            index += 1
        }
        return true
    }

    static func fields(
        of body: ByteBuffer,
        format: BodyFormat,
        webhooks: Bool
    ) throws(CallbackJSONScanner.Failure) -> [CallbackJSONScanner.Field] {
        switch format {
        case .json:
            let scanner = webhooks ? Self.webhookScanner : Self.scanner
            return try body.withUnsafeReadableBytes { bytes throws(CallbackJSONScanner.Failure) in
                try scanner.scan(bytes)
            }
        case .form:
            return body.withUnsafeReadableBytes {
                Self.formFields($0, keys: webhooks ? Self.webhookFormKeys : Self.anyDepthKeys)
            }
        case .jsonLines:
            let scanner = webhooks ? Self.webhookScanner : Self.scanner
            return try body.withUnsafeReadableBytes { bytes throws(CallbackJSONScanner.Failure) in
                try Self.jsonLinesFields(bytes, scanner: scanner)
            }
        case .multipart(let contentType):
            return try body.withUnsafeReadableBytes { bytes throws(CallbackJSONScanner.Failure) in
                try Self.multipartFields(bytes, contentType: contentType, webhooks: webhooks)
            }
        }
    }

    /// The callback fields of every part, with ranges into the whole body. Parts are split and typed by the
    /// redaction engine's own walk (`Redactor.multipartParts`), so both see the same parts: a text field named
    /// like a callback key is one field (its whole content; so is a UTF-8 part of any other type so named); JSON, NDJSON and form parts are scanned as such
    /// bodies are; a text part that parses as JSON is scanned too (the engine reads it as text, a vendor may read
    /// it as JSON). Other opaque parts (binary, nested multipart) are the policy's `content.unknown` to judge.
    static func multipartFields(
        _ bytes: UnsafeRawBufferPointer,
        contentType: String,
        webhooks: Bool
    ) throws(CallbackJSONScanner.Failure) -> [CallbackJSONScanner.Field] {
        let parts: [MultipartPart]
        do {
            parts = try Redactor.multipartParts(bytes, contentType: contentType) ?? []
        } catch {
            // A body the engine refuses as well, with the engine's reason (no JSON offset to give).
            throw CallbackJSONScanner.Failure(reason: error.reason, offset: -1)
        }
        let scanner = webhooks ? Self.webhookScanner : Self.scanner
        let keys = webhooks ? Self.webhookFormKeys : Self.anyDepthKeys
        var fields: [CallbackJSONScanner.Field] = []
        for (index, part) in parts.enumerated() {
            let content = UnsafeRawBufferPointer(rebasing: bytes[part.range])
            let key = part.name.flatMap { keys.contains($0) ? $0 : nil }
            // Named by position: a part's name is content, and this refusal is written before the policy runs.
            func subject() -> String { "multipart part \(index + 1)" }
            if let decoded = part.decodedContent {
                // Base64 or quoted-printable: a callback URL in it cannot be rewritten in place, and a vendor's
                // reader decodes it. Refused when it may name one; otherwise the policy inspects it decoded.
                let mayName =
                    key != nil
                    || decoded.withUnsafeBytes {
                        Self.mayHoldCallbackKey($0, webhooks: webhooks, format: .multipart(contentType: contentType))
                    }
                guard !mayName else {
                    throw CallbackJSONScanner.Failure(
                        reason: "\(subject()) has a Content-Transfer-Encoding and may name a callback URL; send it "
                            + "unencoded so Airlock can rewrite it",
                        offset: -1
                    )
                }
                continue
            }
            var found: [CallbackJSONScanner.Field]
            switch part.format {
            case .json:
                guard content.count > 0 else { continue }  // the engine forwards an empty JSON part as is
                do {
                    found = try scanner.scan(content, key: key)
                } catch {
                    throw CallbackJSONScanner.Failure(reason: error.reason, offset: error.offset, subject: subject())
                }
            case .jsonLines:
                do {
                    found = try Self.jsonLinesFields(content, scanner: scanner)
                } catch {
                    throw CallbackJSONScanner.Failure(reason: error.reason, offset: error.offset, subject: subject())
                }
            case .form:
                found = Self.formFields(content, keys: keys)
            case .text:
                if let key {
                    let value = String(decoding: content, as: UTF8.self)
                    let range = 0..<content.count
                    found = [CallbackJSONScanner.Field(range: range, key: key, value: value, depth: 1, syntax: .text)]
                } else if Self.startsLikeJSONContainer(content), let inner = try? scanner.scan(content) {
                    found = inner
                } else {
                    continue
                }
            case .opaque:
                // A field named like a callback key is read as one by the vendor, whatever type it declares.
                guard let key, let value = String(validating: content, as: UTF8.self) else { continue }
                let range = 0..<content.count
                found = [CallbackJSONScanner.Field(range: range, key: key, value: value, depth: 1, syntax: .text)]
            }
            let shift = part.range.lowerBound
            for var field in found {
                field.range = (field.range.lowerBound + shift)..<(field.range.upperBound + shift)
                fields.append(field)
            }
        }
        return fields
    }

    /// First non-blank byte `{` or `[`: only then is a text part worth a JSON scan.
    private static func startsLikeJSONContainer(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let first = bytes.first { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
        return first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
    }

    /// The callback fields of every line, with ranges into the whole body. Lines split as the engine splits them:
    /// at LF, a CR before it dropped, blank lines skipped.
    static func jsonLinesFields(
        _ bytes: UnsafeRawBufferPointer,
        scanner: CallbackJSONScanner
    ) throws(CallbackJSONScanner.Failure) -> [CallbackJSONScanner.Field] {
        var fields: [CallbackJSONScanner.Field] = []
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
            var contentEnd = end
            if contentEnd > start && bytes[contentEnd - 1] == UInt8(ascii: "\r") { contentEnd -= 1 }
            let line = UnsafeRawBufferPointer(rebasing: bytes[start..<contentEnd])
            if !line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) {
                let offset = start
                do {
                    for var field in try scanner.scan(line) {
                        field.range = (field.range.lowerBound + offset)..<(field.range.upperBound + offset)
                        fields.append(field)
                    }
                } catch {
                    throw CallbackJSONScanner.Failure(reason: error.reason, offset: error.offset + offset)
                }
            }
            start = end + 1
        }
        return fields
    }

    /// `key=value` pairs of a form body whose decoded key is one of `keys`; ranges are the raw values'.
    static func formFields(_ bytes: UnsafeRawBufferPointer, keys: Set<String>) -> [CallbackJSONScanner.Field] {
        var fields: [CallbackJSONScanner.Field] = []
        var start = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: "&") { end += 1 }
            var equals = start
            while equals < end && bytes[equals] != UInt8(ascii: "=") { equals += 1 }
            let key = Self.formDecoded(UnsafeRawBufferPointer(rebasing: bytes[start..<equals]))
            if keys.contains(key) {
                let valueStart = min(equals + 1, end)
                let value = Self.formDecoded(UnsafeRawBufferPointer(rebasing: bytes[valueStart..<end]))
                fields.append(
                    CallbackJSONScanner.Field(
                        range: valueStart..<end,
                        key: key,
                        value: value,
                        depth: 1,
                        syntax: .formValue
                    )
                )
            }
            start = end + 1
        }
        return fields
    }

    static func formDecoded(_ bytes: UnsafeRawBufferPointer) -> String {
        let text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "+", with: " ")
        return text.removingPercentEncoding ?? text
    }

    /// What an internal callback value is emptied to before the policy runs: an empty value in its syntax.
    static func placeholder(_ syntax: CallbackJSONScanner.Syntax) -> String {
        syntax == .jsonString ? "\"\"" : ""
    }

    static func encoded(_ url: String, _ syntax: CallbackJSONScanner.Syntax) -> String {
        switch syntax {
        case .jsonString:
            return Self.jsonString(url)
        case .formValue:
            return url.addingPercentEncoding(withAllowedCharacters: Self.formUnreserved) ?? ""
        case .text:
            return url
        }
    }

    static func isJSON(_ contentType: String?) -> Bool {
        Self.format(contentType) == .json
    }

    static func isWebhookPath(_ path: String) -> Bool {
        var segment = path.utf8.startIndex
        let utf8 = path.utf8
        var index = utf8.startIndex
        while true {
            if index == utf8.endIndex || utf8[index] == UInt8(ascii: "/") {
                let name = utf8[segment..<index]
                if name.elementsEqual("webhooks".utf8) || name.elementsEqual("webhook".utf8) { return true }
                if index == utf8.endIndex { return false }
                segment = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
    }

    /// Cheap pre-check: a callback key can only be present when its name, or an escape that could spell one of its
    /// characters, occurs in the body. Those characters (`a`…`z`, `_`) are 0x5F…0x7A, so only escapes starting
    /// `\u005`…`\u007` (JSON) or `%5`…`%7` (forms) count: the `\u00e9`s of escaped non-ASCII text and the `%2F`s
    /// of encoded URLs do not force a full scan.
    static func mayHoldCallbackKey(_ bytes: UnsafeRawBufferPointer, webhooks: Bool, format: BodyFormat) -> Bool {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return false }
        // memchr for the needle's rarest byte (`anchor`), then compare the whole needle around it: far fewer
        // candidates than anchoring on a common first letter, which matters on large bodies. With `next`, the byte
        // after the needle must be in that range too.
        func find(_ needle: StaticString, anchor: Int, next: ClosedRange<UInt8>? = nil) -> Bool {
            let length = needle.utf8CodeUnitCount
            let total = length + (next == nil ? 0 : 1)
            let byte = Int32(needle.utf8Start[anchor])
            var offset = anchor
            while offset < bytes.count {
                guard let hit = memchr(base + offset, byte, bytes.count - offset) else { return false }
                let start = base.distance(to: UnsafeRawPointer(hit)) - anchor
                if start + total <= bytes.count, memcmp(base + start, needle.utf8Start, length) == 0,
                    next?.contains(bytes[start + length]) ?? true
                {
                    return true
                }
                offset = start + anchor + 1
            }
            return false
        }
        func escapesKeyCharacter(_ escape: StaticString) -> Bool {
            find(escape, anchor: 0, next: UInt8(ascii: "5")...UInt8(ascii: "7"))
        }
        if find("callback", anchor: 7) || (webhooks && find("url", anchor: 2)) { return true }
        switch format {
        case .json, .jsonLines: return escapesKeyCharacter("\\u00")
        case .form: return escapesKeyCharacter("%")
        // Its parts may be JSON or forms; a part name may be percent-encoded (`name*=UTF-8''callback%5Furl`). A
        // transfer-encoded part hides its content from this look: such bodies are split and looked into.
        case .multipart:
            return escapesKeyCharacter("\\u00") || escapesKeyCharacter("%") || Self.namesTransferEncoding(bytes)
        }
    }

    /// Whether `bytes` hold `-transfer-encoding` in any case (a part's Content-Transfer-Encoding header): memchr
    /// for the `-`, then the rest compared with ASCII letters folded.
    static func namesTransferEncoding(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let rest: StaticString = "transfer-encoding"
        let length = rest.utf8CodeUnitCount
        var offset = 0
        while offset + length < bytes.count {
            guard let hit = memchr(base + offset, Int32(UInt8(ascii: "-")), bytes.count - length - offset) else {
                return false
            }
            let start = base.distance(to: UnsafeRawPointer(hit)) + 1
            var k = 0
            while k < length, bytes[start + k] | 0x20 == rest.utf8Start[k] { k += 1 }
            if k == length { return true }
            offset = start
        }
        return false
    }

    static func jsonString(_ value: String) -> String {
        var text = ""
        ErrorResponse.appendJSONString(value, to: &text)
        return text
    }

    /// Replaces the ranges (ascending, disjoint) of `body` by the texts.
    static func apply(_ edits: [(range: Range<Int>, text: String)], to body: ByteBuffer) -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(body.readableBytes + edits.reduce(0) { $0 + $1.text.utf8.count })
        var cursor = 0
        let start = body.readerIndex
        for edit in edits {
            if let slice = body.getSlice(at: start + cursor, length: edit.range.lowerBound - cursor) {
                out.writeImmutableBuffer(slice)
            }
            out.writeString(edit.text)
            cursor = edit.range.upperBound
        }
        if let slice = body.getSlice(at: start + cursor, length: body.readableBytes - cursor) {
            out.writeImmutableBuffer(slice)
        }
        return out
    }
}
