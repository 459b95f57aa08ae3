import AirlockPolicy
import AirlockRedaction
import Foundation
import NIOCore

/// Finds bucket URLs anywhere in a request (any string of a JSON document, NDJSON line, form or multipart field,
/// text, the path and query), read by the redaction engine itself: one `block` pattern rule, so JSON escapes
/// (`gs:\/\/`, `\u0067s://`), percent-encoding, nested JSON and compressed bodies are read as the vendor reads them.
/// Asset fields are rewritten before the scan; what it still finds is free text the gateway cannot rewrite.
struct BucketURLScanner: Sendable {
    private let redactor: Redactor

    /// `gs://` / `s3://` URLs, Google Cloud Storage and S3 hosts, Cloud Storage's JSON API
    /// (`www.googleapis.com/storage/…`, `/download/storage/…`), presigned-URL signature and credential parameters.
    static let expression =
        #"(?i)(?:(?:gs|s3)://[a-z0-9]|storage\.googleapis\.com|storage\.cloud\.google\.com|googleapis\.com/(?:download/|upload/)?storage/|s3[.\-][a-z0-9.\-]*amazonaws\.com|x-(?:amz|goog)-(?:signature|credential)=)"#

    init() {
        let policy = Policy(
            name: "asset-urls",
            patterns: [PatternRule(id: OutgoingAssets.rule, action: .block, regex: Self.expression)],
            content: ContentRules(unknown: .pass)
        )
        do {
            // The rule never pseudonymises: the key is never used.
            self.redactor = try Redactor(policy: policy, keys: PseudonymKeys(secret: [UInt8](repeating: 0, count: 32)))
        } catch {
            preconditionFailure("the bucket URL expression did not compile: \(error)")
        }
    }

    /// Whether `body` (as sent, with its Content-Type and Content-Encoding) names a bucket URL anywhere, or cannot be
    /// read (then the policy refuses it; nil here).
    func names(_ body: ByteBuffer, contentType: String?, contentEncoding: String?, vendor: String) -> Bool {
        let outcome = body.withUnsafeReadableBytes { bytes -> UncopiedRedactionOutcome? in
            // Without an escape that could spell a character of the expression (`\/`, `\u…`; `\n` or `\"` cannot),
            // a JSON document or text reads as it is written: the raw scan decides.
            if contentEncoding == nil, !Self.mayEscapeURLCharacters(bytes),
                !(contentType?.lowercased().hasPrefix("multipart/") ?? false), !self.redactor.mayMatch(bytes)
            {
                return nil
            }
            return self.redactor.redactWithoutCopy(
                body: bytes,
                contentType: contentType,
                contentEncoding: contentEncoding,
                vendor: vendor
            )
        }
        guard case .block? = outcome else { return false }
        return true
    }

    /// Whether `bytes` hold a backslash followed by `/` or `u` (a JSON escape that may spell `/` or a letter).
    static func mayEscapeURLCharacters(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        var index = 0
        while index + 1 < bytes.count {
            guard let found = memchr(base + index, Int32(UInt8(ascii: "\\")), bytes.count - index - 1) else {
                return false
            }
            index = base.distance(to: UnsafeRawPointer(found))
            let next = bytes[index + 1]
            if next == UInt8(ascii: "/") || next == UInt8(ascii: "u") { return true }
            index += 2
        }
        return false
    }

    /// Whether a short text (the path, the query) names a bucket URL.
    func names(text: String, vendor: String) -> Bool {
        if case .block = self.redactor.redactText(text, vendor: vendor) { return true }
        return false
    }
}
