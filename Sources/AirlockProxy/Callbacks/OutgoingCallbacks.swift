import AirlockRedaction
import Foundation
import NIOCore

/// Finds callback URLs in requests leaving for a vendor and keeps the lab's host names out of them.
///
/// A callback URL is the value of one of the vendor's callback keys (``CallbackKeys``: `callback_url` and `callback`
/// by default) at any depth of a JSON body or NDJSON line, as a form field or a multipart part (and in the JSON,
/// NDJSON and form parts), or of a webhook key (`url`) in the top-level object on a path with a `webhooks` segment,
/// as Label Studio's webhook API has. Bodies are read by the redaction engine's own parsers (``FieldLocator``), so
/// both see the same fields. A callback URL that points inside the lab is replaced by Airlock's public URL of the
/// callbacks route whose `deliver_to` it names. One that names no route of the vendor, or a vendor with no
/// callbacks route at all, is refused: the vendor would otherwise call an internal host, or learn its name.
///
/// The replacement happens in two steps around the policy's redaction so the public URL can never be redacted:
/// ``prepare(_:finalURLs:)`` empties the internal values (an empty string matches no rule) and
/// ``reinstate(_:plan:)`` writes the public URLs into the redacted body. Bytes outside the replaced strings are
/// left as they were.
struct OutgoingCallbacks: Sendable {
    let internalHosts: InternalHosts
    /// Per vendor: its routes' targets and public URLs.
    let routes: [String: [(target: CallbackTarget, publicURL: String)]]
    /// Per vendor: the locators of its callback keys.
    let locators: [String: CallbackKeys.Locators]
    static let defaultLocators = CallbackKeys.Locators(CallbackKeys())
    static let rule = "callback-url"

    init(configuration: ProxyConfiguration.Callbacks?, vendors: [ProxyConfiguration.Vendor] = []) {
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
        var locators: [String: CallbackKeys.Locators] = [:]
        for vendor in vendors {
            locators[vendor.name] = CallbackKeys.Locators(vendor.callbackKeys)
        }
        self.locators = locators
    }

    func locator(vendor: String, webhooks: Bool) -> FieldLocator {
        (self.locators[vendor] ?? Self.defaultLocators).locator(webhooks: webhooks)
    }

    /// What to do with the values `prepare` emptied, once the policy has redacted the body.
    struct Plan: Sendable {
        /// Ordinal (among all callback fields of the body) -> the public URL to write there.
        var replacements: [Int: String]
        var fieldCount: Int
        /// Whether the request's path is a webhook API's (a top-level `url` is then a callback field too).
        var webhooks: Bool
        var vendor: String
        var format: FieldLocator.Format
    }

    enum Prepared {
        /// Nothing to change.
        case untouched
        case rewritten(ByteBuffer, Plan?)
        case refuse(EgressRefusal)
    }

    /// Empties (or, with `finalURLs`, directly rewrites) internal callback URLs in `request`'s body.
    // Over 80 lines: the decisions (format, encoding, quick check, rewrite) read in the order a body meets them.
    func prepare(_ request: EgressRequest, finalURLs: Bool) -> Prepared {
        if let query = request.query, let refusal = self.queryRefusal(query, request: request) {
            return .refuse(refusal)
        }
        let body = request.body
        guard body.readableBytes > 0 else { return .untouched }
        // A vendor may read a JSON document whatever type it is labelled with (text/plain, none at all): such a body
        // is looked into as JSON too, and left alone when it does not parse as JSON (then no reader takes it for
        // JSON either).
        let declared = FieldLocator.Format(contentType: request.headers.first(name: "content-type"))
        let labelledOtherwise =
            declared == nil && body.withUnsafeReadableBytes(FieldLocator.startsLikeJSONContainer)
        guard let format = declared ?? (labelledOtherwise ? .json : nil) else { return .untouched }
        let webhooks = Self.isWebhookPath(request.path)
        let locator = self.locator(vendor: request.vendor, webhooks: webhooks)
        if let encoding = request.headers.first(name: "content-encoding"),
            !encoding.trimmingCharacters(in: .whitespaces).isEmpty, encoding.lowercased() != "identity"
        {
            // Callback URLs are only rewritten in bodies Airlock can edit in place: a compressed body that names one
            // inside the lab is refused. Compressed bytes never spell a key, so the check looks at what they decode
            // to; a body that does not decode is the policy's to refuse (without a policy, it is refused here when
            // its bytes may spell a key). Decoded first: a large compressed stream holds `%5`…`%7` by chance.
            let namesInternalURL = body.withUnsafeReadableBytes { bytes in
                guard let decoded = Redactor.decodedBody(bytes, contentEncoding: encoding) else {
                    return locator.mayHold(bytes, format: format)
                }
                return decoded.withUnsafeBytes { decoded in
                    guard locator.mayHold(decoded, format: format),
                        let fields = try? locator.locate(decoded, format: format)
                    else { return false }
                    return fields.contains { self.isInternal($0.value) }
                }
            }
            guard namesInternalURL else { return .untouched }
            return .refuse(
                self.refusal(
                    // The header's value is the client's and may hold anything: never echoed (nor recorded).
                    "the request body is compressed (it has a Content-Encoding) and may name a callback URL; "
                        + "send callback-bearing requests uncompressed so Airlock can rewrite them"
                )
            )
        }
        let mayHold = body.withUnsafeReadableBytes { locator.mayHold($0, format: format) }
        guard mayHold else { return .untouched }
        let fields: [FieldLocator.Field]
        do {
            fields = try body.withUnsafeReadableBytes { bytes throws(FieldLocator.Failure) in
                try locator.locate(bytes, format: format)
            }
        } catch {
            if labelledOtherwise { return .untouched }
            return .refuse(EgressRefusal(.uninspectableBody(error.reason)))
        }
        var replacements: [Int: String] = [:]
        var edits: [(range: Range<Int>, text: [UInt8])] = []
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
            guard let range = field.range else {
                return .refuse(
                    self.refusal(
                        "a callback URL (\(field.key)) inside a JSON document held in a string points inside the lab; "
                            + "it cannot be rewritten there"
                    )
                )
            }
            replacements[ordinal] = publicURL
            edits.append(
                (range, finalURLs ? FieldLocator.encode(publicURL, as: field.syntax) : Self.placeholder(field.syntax))
            )
        }
        guard !edits.isEmpty else { return .untouched }
        let rewritten = Self.apply(edits, to: body)
        let plan =
            finalURLs
            ? nil
            : Plan(
                replacements: replacements,
                fieldCount: fields.count,
                webhooks: webhooks,
                vendor: request.vendor,
                format: format
            )
        return .rewritten(rewritten, plan)
    }

    /// Writes the public URLs into the body the policy produced from a prepared one. Fails closed when the policy
    /// removed or changed a callback field, since the URLs could then land in the wrong place.
    func reinstate(_ body: ByteBuffer, plan: Plan) -> Result<ByteBuffer, EgressRefusal> {
        Self.reinstate(
            body,
            locator: self.locator(vendor: plan.vendor, webhooks: plan.webhooks),
            format: plan.format,
            replacements: plan.replacements,
            fieldCount: plan.fieldCount,
            what: "callback"
        ).mapError { self.refusal($0) }
    }

    /// Writes `replacements` (field ordinal -> value) over the emptied fields of a body the policy produced: the
    /// fields are located again, and must be as many as before and still empty; otherwise the reason.
    static func reinstate(
        _ body: ByteBuffer,
        locator: FieldLocator,
        format: FieldLocator.Format,
        replacements: [Int: String],
        fieldCount: Int,
        what: String
    ) -> Result<ByteBuffer, ReinstateFailure> {
        let fields: [FieldLocator.Field]
        do {
            fields = try body.withUnsafeReadableBytes { bytes throws(FieldLocator.Failure) in
                try locator.locate(bytes, format: format)
            }
        } catch {
            return .failure(ReinstateFailure("the redacted body cannot be parsed (\(error.reason))"))
        }
        guard fields.count == fieldCount else {
            return .failure(
                ReinstateFailure("the policy removed a \(what) field, so the \(what) URL cannot be rewritten")
            )
        }
        var edits: [(range: Range<Int>, text: [UInt8])] = []
        for (ordinal, url) in replacements.sorted(by: { $0.key < $1.key }) {
            let field = fields[ordinal]
            guard let range = field.range, range.count == Self.placeholder(field.syntax).count else {
                return .failure(ReinstateFailure("the policy changed a \(what) field being rewritten"))
            }
            edits.append((range, FieldLocator.encode(url, as: field.syntax)))
        }
        return .success(Self.apply(edits, to: body))
    }

    /// Why rewritten fields could not be written back: a reason for the refusal.
    struct ReinstateFailure: Error {
        var reason: String

        init(_ reason: String) {
            self.reason = reason
        }
    }

    /// A refusal when the query string names an internal callback URL under a callback key: many vendor APIs read
    /// query parameters as they read the body's (Express, Flask, Rails), and the query is not rewritten.
    private func queryRefusal(_ query: String, request: EgressRequest) -> EgressRefusal? {
        let locator = self.locator(vendor: request.vendor, webhooks: Self.isWebhookPath(request.path))
        let fields = Array(query.utf8).withUnsafeBytes { bytes -> [FieldLocator.Field]? in
            guard locator.mayHold(bytes, format: .form) else { return [] }
            return try? locator.locate(bytes, format: .form)
        }
        guard let fields else {
            return self.refusal("the query string may name a callback URL and cannot be read as form fields")
        }
        guard let field = fields.first(where: { self.isInternal($0.value) }) else { return nil }
        return self.refusal(
            "a callback URL (\(field.key)) in the query string points inside the lab; "
                + "send it in the body so Airlock can rewrite it"
        )
    }

    private func isInternal(_ value: String) -> Bool {
        CallbackURL(value).map { self.internalHosts.contains($0.host) } ?? false
    }

    private func publicURL(for url: CallbackURL, vendor: String) -> String? {
        for route in self.routes[vendor] ?? [] where url.names(route.target) {
            return route.publicURL
        }
        return nil
    }

    private func refusal(_ failure: ReinstateFailure) -> EgressRefusal {
        self.refusal(failure.reason)
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

    /// What an internal callback value is emptied to before the policy runs: an empty value in its syntax.
    static func placeholder(_ syntax: FieldLocator.Syntax) -> [UInt8] {
        syntax == .jsonString ? Array(#""""#.utf8) : []
    }

    static func isJSON(_ contentType: String?) -> Bool {
        FieldLocator.Format(contentType: contentType) == .json
    }

    /// Whether a segment of `path` is `webhooks` or `webhook` as a vendor's router reads it: a `;` parameter dropped
    /// (Tomcat, Jetty), percent-escapes decoded (Django routes the decoded path), in any case.
    static func isWebhookPath(_ path: String) -> Bool {
        path.split(separator: "/").contains { segment in
            let named = segment.prefix { $0 != ";" }
            let name = ((named.contains("%") ? named.removingPercentEncoding : nil) ?? String(named)).lowercased()
            return name == "webhooks" || name == "webhook"
        }
    }

    /// Replaces the ranges (ascending, disjoint) of `body` by the texts.
    static func apply(_ edits: [(range: Range<Int>, text: [UInt8])], to body: ByteBuffer) -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(body.readableBytes + edits.reduce(0) { $0 + $1.text.count })
        var cursor = 0
        let start = body.readerIndex
        for edit in edits {
            if let slice = body.getSlice(at: start + cursor, length: edit.range.lowerBound - cursor) {
                out.writeImmutableBuffer(slice)
            }
            out.writeBytes(edit.text)
            cursor = edit.range.upperBound
        }
        if let slice = body.getSlice(at: start + cursor, length: body.readableBytes - cursor) {
            out.writeImmutableBuffer(slice)
        }
        return out
    }
}
