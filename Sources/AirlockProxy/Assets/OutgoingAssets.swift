import AirlockRedaction
import Foundation
import NIOCore

/// Keeps attachment URLs that point inside the lab or at its buckets from leaving as they are.
///
/// An asset field (``AssetFieldKeys``: Scale's `attachment`, Labelbox's `row_data`, Label Studio's `image`, …, found
/// at any depth of a JSON body or NDJSON line, as a form field or multipart part, by the engine's own parsers through
/// ``FieldLocator``) whose value names an internal host, a bucket (``BucketURL``) or a configured source is replaced
/// by `<public_url>/assets/<token>` when `assets:` is configured and the URL is under one of its sources, and refused
/// 403 (rule `asset-url`) otherwise. A bucket URL anywhere else (free text, the path, the query; see
/// ``BucketURLScanner``) is refused too: it cannot be rewritten in place, and the vendor would fetch it uninspected.
///
/// As for callback URLs, the replacement happens around the policy's redaction (``prepare(_:finalURLs:)`` empties the
/// fields, ``reinstate(_:plan:)`` writes the public URLs), so no policy rule can mangle a token.
struct OutgoingAssets: Sendable {
    static let rule = "asset-url"

    let internalHosts: InternalHosts
    /// Nil without `assets:`: every asset URL is refused.
    let sources: AssetSources?
    let minter: AssetMinter?
    let locators: [String: FieldLocator]
    let scanner = BucketURLScanner()
    private static let defaultLocator = FieldLocator(keys: AssetFieldKeys.defaults)

    init(configuration: ProxyConfiguration, minter: AssetMinter?) {
        self.internalHosts = InternalHosts(
            globs: (configuration.callbacks?.internalHosts ?? []) + (configuration.assets?.internalHosts ?? [])
        )
        self.sources = configuration.assets.map { AssetSources(sources: $0.sources) }
        self.minter = minter
        self.locators = AssetFieldKeys.locators(
            vendors: configuration.vendors.map(\.name),
            configured: configuration.assets?.fieldKeys ?? [:]
        )
    }

    func locator(vendor: String) -> FieldLocator { self.locators[vendor] ?? Self.defaultLocator }

    struct Plan: Sendable {
        var replacements: [Int: String]
        var fieldCount: Int
        var vendor: String
        var format: FieldLocator.Format
    }

    enum Prepared {
        case untouched
        case rewritten(ByteBuffer, Plan?)
        case refuse(EgressRefusal)
    }

    /// Whether `value` names something the vendor must not be given: an internal host, a bucket, a source.
    func isAssetURL(_ value: String) -> Bool {
        // Every form recognised below holds a `:` (a scheme) or a `=` (a presigned link's query): prose is turned
        // away by one pass over its bytes, before the string searches and URL parsing (which cost ~1 ms on a few KB
        // of task text, on every request naming a `content` field).
        guard value.utf8.contains(where: { $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "=") }) else { return false }
        if BucketURL.matches(value) { return true }
        // `data:`, `mailto:`, `urn:`…: no host to fetch from (embedded payloads are the policy's to inspect).
        if Self.hasNonNetworkScheme(value) { return false }
        if let url = CallbackURL(value), self.internalHosts.contains(url.host) { return true }
        return self.sources?.target(for: value) != nil
    }

    /// Whether `value` starts with `scheme:` (a letter, then letters, digits, `+`, `-`, `.`) not followed by `//` or a
    /// port number.
    static func hasNonNetworkScheme(_ value: String) -> Bool {
        let text = value.drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let colon = text.firstIndex(of: ":"), let first = text.first, first.isASCII, first.isLetter else {
            return false
        }
        let scheme = text[..<colon]
        guard scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) }) else {
            return false
        }
        // `host:8443/x` is a host and port, which a vendor's client may well fetch.
        let after = text[text.index(after: colon)...]
        return !after.hasPrefix("//") && !(after.first?.isNumber ?? false)
    }

    // Over 80 lines: the decisions (query, format, encoding, fields, free text) read in the order a request meets them.
    func prepare(_ request: EgressRequest, finalURLs: Bool) -> Prepared {
        let locator = self.locator(vendor: request.vendor)
        if let refusal = self.urlRefusal(request, locator: locator) { return .refuse(refusal) }
        let body = request.body
        guard body.readableBytes > 0 else { return .untouched }
        let contentType = request.headers.first(name: "content-type")
        let encoding = request.headers.first(name: "content-encoding").flatMap { value in
            let trimmed = value.trimmingCharacters(in: .whitespaces)
            return trimmed.isEmpty || trimmed.lowercased() == "identity" ? nil : value
        }
        let declared = FieldLocator.Format(contentType: contentType)
        let labelledOtherwise = declared == nil && body.withUnsafeReadableBytes(FieldLocator.startsLikeJSONContainer)
        let format = declared ?? (labelledOtherwise ? .json : nil)
        // Nothing to rewrite: the body may still name a bucket elsewhere.
        func untouched() -> Prepared {
            self.scanner.names(body, contentType: contentType, contentEncoding: encoding, vendor: request.vendor)
                ? .refuse(Self.freeTextRefusal) : .untouched
        }
        guard let format else { return untouched() }
        if let encoding {
            // Compressed bodies are not rewritten in place: one naming an asset URL is refused.
            let namesAsset = body.withUnsafeReadableBytes { bytes in
                guard let decoded = Redactor.decodedBody(bytes, contentEncoding: encoding) else { return false }
                return decoded.withUnsafeBytes { decoded in
                    guard locator.mayHold(decoded, format: format),
                        let fields = try? locator.locate(decoded, format: format)
                    else { return false }
                    return fields.contains { self.isAssetURL($0.value) }
                }
            }
            guard namesAsset else { return untouched() }
            return .refuse(
                Self.refusal(
                    // The header's value is the client's and may hold anything: never echoed (nor recorded).
                    "the request body is compressed (it has a Content-Encoding) and names an attachment URL; "
                        + "send it uncompressed so Airlock can rewrite it"
                )
            )
        }
        guard body.withUnsafeReadableBytes({ locator.mayHold($0, format: format) }) else {
            return untouched()
        }
        let fields: [FieldLocator.Field]
        do {
            fields = try body.withUnsafeReadableBytes { bytes throws(FieldLocator.Failure) in
                try locator.locate(bytes, format: format)
            }
        } catch {
            if labelledOtherwise { return untouched() }
            return .refuse(EgressRefusal(.uninspectableBody(error.reason)))
        }
        var replacements: [Int: String] = [:]
        var edits: [(range: Range<Int>, text: [UInt8])] = []
        for (ordinal, field) in fields.enumerated() where self.isAssetURL(field.value) {
            switch self.replacement(for: field, vendor: request.vendor) {
            case .failure(let refusal): return .refuse(refusal)
            case .success(let (range, publicURL)):
                replacements[ordinal] = publicURL
                edits.append(
                    (
                        range,
                        finalURLs
                            ? FieldLocator.encode(publicURL, as: field.syntax)
                            : OutgoingCallbacks.placeholder(field.syntax)
                    )
                )
            }
        }
        guard !edits.isEmpty else { return untouched() }
        let rewritten = OutgoingCallbacks.apply(edits, to: body)
        // What is left once the fields are rewritten must name no bucket either.
        if self.scanner.names(rewritten, contentType: contentType, contentEncoding: nil, vendor: request.vendor) {
            return .refuse(Self.freeTextRefusal)
        }
        let plan =
            finalURLs
            ? nil
            : Plan(replacements: replacements, fieldCount: fields.count, vendor: request.vendor, format: format)
        return .rewritten(rewritten, plan)
    }

    /// The public URL for an asset field, or the refusal.
    private func replacement(
        for field: FieldLocator.Field,
        vendor: String
    ) -> Result<(Range<Int>, String), EgressRefusal> {
        guard let sources = self.sources, let minter = self.minter else {
            return .failure(
                Self.refusal(
                    "an attachment URL (\(field.key)) points inside the lab or at a bucket, and assets: is not "
                        + "configured, so vendors cannot be given a gateway URL for it"
                )
            )
        }
        guard sources.target(for: field.value) != nil else {
            return .failure(
                Self.refusal(
                    "an attachment URL (\(field.key)) points inside the lab or at a bucket outside assets.sources"
                )
            )
        }
        guard let range = field.range else {
            return .failure(
                Self.refusal(
                    "an attachment URL (\(field.key)) inside a JSON document held in a string cannot be rewritten"
                )
            )
        }
        return .success((range, minter.publicURL(for: field.value, vendor: vendor)))
    }

    /// Writes the public URLs into the body the policy produced from a prepared one (see ``OutgoingCallbacks``).
    func reinstate(_ body: ByteBuffer, plan: Plan) -> Result<ByteBuffer, EgressRefusal> {
        OutgoingCallbacks.reinstate(
            body,
            locator: self.locator(vendor: plan.vendor),
            format: plan.format,
            replacements: plan.replacements,
            fieldCount: plan.fieldCount,
            what: "attachment"
        ).mapError { Self.refusal($0.reason) }
    }

    /// The path and query are not rewritten: an asset URL in an asset-named query parameter, or a bucket URL
    /// anywhere in them, is refused.
    private func urlRefusal(_ request: EgressRequest, locator: FieldLocator) -> EgressRefusal? {
        if let query = request.query {
            let fields = Array(query.utf8).withUnsafeBytes { bytes -> [FieldLocator.Field]? in
                guard locator.mayHold(bytes, format: .form) else { return [] }
                return try? locator.locate(bytes, format: .form)
            }
            guard let fields else {
                return Self.refusal("the query string may name an attachment URL and cannot be read as form fields")
            }
            if let field = fields.first(where: { self.isAssetURL($0.value) }) {
                return Self.refusal(
                    "an attachment URL (\(field.key)) in the query string points inside the lab or at a bucket; "
                        + "send it in the body so Airlock can rewrite it"
                )
            }
        }
        let url = request.path + (request.query.map { "?" + $0 } ?? "")
        return self.scanner.names(text: url, vendor: request.vendor) ? Self.freeTextRefusal : nil
    }

    static let freeTextRefusal = Self.refusal(
        "the request names a bucket URL (gs://, s3://, a cloud storage host or a presigned link) outside an "
            + "attachment field, where it cannot be rewritten; the vendor would fetch it uninspected"
    )

    static func refusal(_ message: String) -> EgressRefusal {
        EgressRefusal(
            .blockedByPolicy(rule: Self.rule, reason: message),
            inspection: EgressInspection(
                policy: "assets",
                findings: [Finding(rule: Self.rule, action: "block", count: 1)]
            )
        )
    }
}
