import AirlockRedaction
import NIOHTTP1

/// Inspects the value of every header a request carries to its vendor (the allowlisted ones: `User-Agent`,
/// `Idempotency-Key`, `Content-Type` with its parameters, a vendor's `headers:`) with the vendor's policy, as text:
/// a value is redacted or pseudonymised in place, or the request refused per the rule's action.
///
/// Not inspected: the credentials the lab means for the vendor (`Authorization`, `X-Api-Key`), forwarded untouched
/// (Airlock never logs or records header values), and the vendor's own `Host`, which Airlock set.
///
/// Values are matched as written and, where they hold `%XX` escapes, also percent-decoded (as all text is; a
/// replacement of escaped text is percent-encoded). A redacted value stays a valid header value:
/// replacements are visible ASCII, and a result with a control character is refused as uninspectable.
enum HeaderRedaction {
    enum Outcome {
        /// Nothing matched: forward the headers as they are.
        case unchanged
        case forward(headers: HTTPHeaders, findings: [Finding])
        case block(rule: String, reason: String, findings: [Finding])
        case uninspectable(reason: String)
    }

    /// Headers whose values leave as the lab sent them: credentials for the vendor, and the `Host` Airlock set.
    static func isExempt(_ name: String) -> Bool {
        switch name.utf8.count {
        case 4: name.lowercased() == "host"
        case 9: name.lowercased() == "x-api-key"
        case 13: name.lowercased() == "authorization"
        default: false
        }
    }

    static func redact(_ headers: HTTPHeaders, redactor: Redactor, vendor: String) -> Outcome {
        // The common case: no value could hold anything the policy matches. One raw scan per value (each on its
        // own, so an anchored pattern means what it means for one text), no copies.
        guard headers.contains(where: { !Self.isExempt($0.name) && Self.mayMatch($0.value, redactor: redactor) })
        else { return .unchanged }
        var findings: [Finding] = []
        var rebuilt = HTTPHeaders()
        rebuilt.reserveCapacity(headers.count)
        for (name, value) in headers {
            guard !Self.isExempt(name), Self.mayMatch(value, redactor: redactor) else {
                rebuilt.add(name: name, value: value)
                continue
            }
            // Header names come from the vendor's allowlist, so they may be recorded.
            let place = "header:" + name.lowercased()
            switch PlacedTextRedaction.redact(value, at: place, redactor: redactor, vendor: vendor) {
            case .unchanged(let reported):
                rebuilt.add(name: name, value: value)
                findings += reported
            case .changed(let text, let found):
                guard Self.isValidValue(text) else {
                    return .uninspectable(reason: "\(place): the redacted value is not a valid header value")
                }
                rebuilt.add(name: name, value: text)
                findings += found
            case .block(let rule, let reason, let found):
                return .block(rule: rule, reason: reason, findings: found)
            case .uninspectable(let reason):
                return .uninspectable(reason: reason)
            }
        }
        // Report-mode findings alone change nothing: the headers leave exactly as they came.
        let changed = findings.contains { $0.mode == nil }
        return findings.isEmpty ? .unchanged : .forward(headers: changed ? rebuilt : headers, findings: findings)
    }

    private static func mayMatch(_ value: String, redactor: Redactor) -> Bool {
        // Header values are native strings (contiguous UTF-8); anything else is scanned the slow way.
        value.utf8.withContiguousStorageIfAvailable { redactor.mayMatch(UnsafeRawBufferPointer($0)) } ?? true
    }

    /// RFC 9110 §5.5 field-value: visible ASCII, spaces and tabs, and obs-text; never CR, LF, NUL or controls.
    private static func isValidValue(_ text: String) -> Bool {
        !text.utf8.contains { ($0 < 0x20 && $0 != UInt8(ascii: "\t")) || $0 == 0x7F }
    }
}
