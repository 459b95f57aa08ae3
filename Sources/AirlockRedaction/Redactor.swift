import AirlockPolicy
import Foundation

/// The redaction engine for one loaded policy.
///
/// Compiles every term, pattern, detector and allow entry of the policy into one Vectorscan database at `init` (plus
/// a small start-of-match database for the regular expressions, only scanned around hits). Immutable afterwards and
/// safe to share between threads: each call takes its own scratch space from a pool.
///
/// Bodies are handled by Content-Type (JSON structure-aware, text/*, form-urlencoded, multipart/form-data, NDJSON)
/// and Content-Encoding (gzip, deflate). Anything that cannot be decoded or parsed is `.uninspectable`: nothing of it
/// may be forwarded.
public final class Redactor: Sendable {
    let rules: CompiledRules
    let keys: PseudonymKeys
    let unknownContent: UnknownContent
    let limits: DecompressionLimits
    /// Limits for decoding a compressed response to restore (the proxy's `limits.max_response_bytes`).
    let responseLimits: DecompressionLimits
    let scratchPool: ScratchPool
    let vendors: VendorCache
    /// Labels whose tokens `restore` reverses, by label bytes.
    let restoreLabels: [[UInt8]: RestoreKind]
    /// `pseudonyms.length: capped`: `restore` also looks for capped term tokens (`_7QK2M`).
    let cappedTerms: Bool
    /// `pseudonyms.emails: address`: the `email` detectors' labels as their address pseudonyms begin with
    /// (``EmailPseudonym/localLabel(_:)``) -> the label their values are sealed under.
    let emailLabels: [[UInt8]: [UInt8]]
    /// JSON strings are validated and copied by the C kernel (false: the Swift reference walker, for equivalence
    /// tests).
    let stringKernel: Bool
    /// The keyed fingerprint of every dictionary value of every term rule, as the policy spells it: a finding of a
    /// term written that way takes it instead of paying an HMAC per request.
    let termFingerprints: [[String]]
    /// Path steps of the names no rule matches in, for every request (`RedactionSession.keyStep`).
    let unmatchedNames = UnmatchedNames()
    /// The policy's `mode: report` rules, compiled on their own: run over what the enforced rules let leave, their
    /// findings are added as report-only (`Redactor+Report`). Nil when the policy has none.
    let reporter: Redactor?
    /// The `block` rules of the policy: the reporter applies its own as `redact` (so that one block does not end the
    /// count), and their findings say `block` again.
    let reportedBlocks: Set<String>
    /// The policy's `images:` section with the inspector handed in (`nil`: the policy has none).
    let images: ImageSetup?

    enum RestoreKind: Sendable {
        case term
        case sealed
        case both
    }

    /// Compiles `policy`. Throws `.compile` naming the rule when an expression does not compile.
    ///
    /// - Parameters:
    ///   - limits: for decoding a compressed request body (the proxy passes `limits.max_body_bytes`).
    ///   - responseLimits: for decoding a compressed response to restore (`limits.max_response_bytes`).
    ///   - imageInspector: reads images when the policy has an `images:` section (`AirlockImages`); without one,
    ///     such a policy refuses every image.
    public convenience init(
        policy: Policy,
        keys: PseudonymKeys,
        limits: DecompressionLimits = DecompressionLimits(),
        responseLimits: DecompressionLimits = DecompressionLimits(),
        imageInspector: (any ImageInspector)? = nil
    )
        throws(RedactionError)
    {
        try self.init(
            policy: policy,
            keys: keys,
            limits: limits,
            responseLimits: responseLimits,
            useFastForms: true,
            imageInspector: imageInspector
        )
    }

    /// `useFastForms: false` is the reference engine of the equivalence tests (see `CompiledRules.init`);
    /// `stringKernel: false` walks JSON strings with the Swift reference instead of the C kernel.
    init(
        policy: Policy,
        keys: PseudonymKeys,
        limits: DecompressionLimits,
        responseLimits: DecompressionLimits = DecompressionLimits(),
        useFastForms: Bool,
        stringKernel: Bool = true,
        imageInspector: (any ImageInspector)? = nil
    )
        throws(RedactionError)
    {
        if let failure = MatchingLibraryCheck.failure {
            throw RedactionError(.compile, failure)
        }
        // Report-mode rules never take part in the decision: the enforced rules are compiled without them, so what
        // leaves is byte for byte what the policy without them forwards.
        let rules = try CompiledRules(policy: policy.enforcedPart, useFastForms: useFastForms)
        self.reportedBlocks = policy.blockingRuleIDs
        self.reporter = try policy.reportedPart.map { (reported) throws(RedactionError) in
            try Redactor(
                policy: reported.blocksCounted,
                keys: keys,
                limits: limits,
                responseLimits: responseLimits,
                useFastForms: useFastForms,
                stringKernel: stringKernel
            )
        }
        self.rules = rules
        self.keys = keys
        self.unknownContent = policy.content.unknown
        self.images = policy.images.map { ImageSetup(rules: $0, inspector: imageInspector) }
        self.limits = limits
        self.responseLimits = responseLimits
        self.stringKernel = stringKernel
        self.scratchPool = ScratchPool(databases: [rules.fast, rules.startOfMatch].compactMap { $0 })
        self.vendors = VendorCache(keys: keys, rules: rules.rules, options: policy.pseudonyms)
        self.cappedTerms = policy.pseudonyms.length == .capped
        var emailLabels: [[UInt8]: [UInt8]] = [:]
        if policy.pseudonyms.emails == .address {
            for rule in rules.rules where rule.action == .pseudonymize && rule.detector?.kind == .email {
                if let local = EmailPseudonym.localLabel(rule.label) { emailLabels[local] = Array(rule.label.utf8) }
            }
        }
        self.emailLabels = emailLabels
        self.termFingerprints = rules.rules.map { rule in
            rule.kind == .term ? rule.values.map { keys.fingerprint(Array($0.utf8)) } : []
        }
        var labels: [[UInt8]: RestoreKind] = [:]
        func add(_ label: String, _ kind: RestoreKind) {
            let key = Array(label.utf8)
            switch (labels[key], kind) {
            case (nil, _): labels[key] = kind
            case (.term?, .sealed), (.sealed?, .term): labels[key] = .both
            default: break
            }
        }
        for rule in rules.rules where rule.action == .pseudonymize && rule.kind != .allow {
            // Terms: dictionary tokens for the policy's spelling, sealed ones for any other spelling.
            if rule.kind == .term { add(rule.label, .term) }
            add(rule.label, .sealed)
        }
        for rule in rules.fieldRules where rule.action == .pseudonymize { add(rule.label, .sealed) }
        self.restoreLabels = labels
    }

    /// The number of Vectorscan expressions in the single-pass database (term spellings, allow entries, regexes).
    public var expressionCount: Int { rules.expressions.count }

    /// Decides what of `body` may leave for `vendor`.
    ///
    /// - Parameters:
    ///   - contentType: the request's Content-Type header (`nil` when absent).
    ///   - contentEncoding: the request's Content-Encoding header (`nil` when absent); gzip and deflate are decoded,
    ///     redacted and re-encoded, anything else is uninspectable.
    ///   - vendor: selects the pseudonym keys; tokens for different vendors cannot be linked.
    public func redact(
        body: [UInt8],
        contentType: String?,
        contentEncoding: String?,
        vendor: String
    )
        -> RedactionOutcome
    {
        body.withUnsafeBufferPointer { buffer in
            redact(buffer, original: body, contentType: contentType, contentEncoding: contentEncoding, vendor: vendor)
        }
    }

    /// `redact(body:...)` over bytes the caller owns, saying `.unchanged` instead of copying a body that may leave as
    /// it is: the caller forwards its own bytes (a NIO `ByteBuffer` as received) and copies nothing.
    public func redactWithoutCopy(
        body: UnsafeRawBufferPointer,
        contentType: String?,
        contentEncoding: String?,
        vendor: String
    ) -> UncopiedRedactionOutcome {
        decide(
            body.assumingMemoryBound(to: UInt8.self),
            contentType: contentType,
            contentEncoding: contentEncoding,
            vendor: vendor
        )
    }

    /// Redacts a short text (a query value, a path segment) as plain text.
    public func redactText(_ text: String, vendor: String) -> RedactionOutcome {
        redact(body: Array(text.utf8), contentType: "text/plain; charset=utf-8", contentEncoding: nil, vendor: vendor)
    }

    private func redact(
        _ input: UnsafeBufferPointer<UInt8>,
        original: [UInt8]?,
        contentType: String?,
        contentEncoding: String?,
        vendor: String
    ) -> RedactionOutcome {
        switch decide(input, contentType: contentType, contentEncoding: contentEncoding, vendor: vendor) {
        case .unchanged(let findings): .forward(body: original ?? Array(input), findings: findings)
        case .forward(let body, let findings): .forward(body: body, findings: findings)
        case .block(let rule, let reason, let findings): .block(rule: rule, reason: reason, findings: findings)
        case .uninspectable(let reason, let findings): .uninspectable(reason: reason, findings: findings)
        }
    }

    /// The decision before any copy: `.unchanged` means the input may leave as it is. The report-mode rules' findings
    /// on what leaves are added (`Redactor+Report`).
    private func decide(
        _ input: UnsafeBufferPointer<UInt8>,
        contentType: String?,
        contentEncoding: String?,
        vendor: String
    ) -> UncopiedRedactionOutcome {
        let outcome = decideEnforced(input, contentType: contentType, contentEncoding: contentEncoding, vendor: vendor)
        guard let reporter else { return outcome }
        return reporter.adding(
            to: outcome,
            blocks: reportedBlocks,
            input: input,
            contentType: contentType,
            contentEncoding: contentEncoding,
            vendor: vendor
        )
    }

    /// The enforced rules' decision alone.
    func decideEnforced(
        _ input: UnsafeBufferPointer<UInt8>,
        contentType: String?,
        contentEncoding: String?,
        vendor: String
    ) -> UncopiedRedactionOutcome {
        let scratch = scratchPool.take()
        defer { scratchPool.give(scratch) }
        let session = RedactionSession(
            rules: rules,
            keys: keys,
            vendor: vendors.state(for: vendor),
            scratch: scratch,
            unknownContent: unknownContent,
            limits: limits,
            termFingerprints: termFingerprints
        )
        session.stringKernel = stringKernel
        session.unmatchedNames = unmatchedNames
        session.images = images
        do throws(Stop) {
            guard let coding = ContentCoding(header: contentEncoding) else {
                throw Stop.uninspectable("Content-Encoding \(contentEncoding ?? "") cannot be inspected")
            }
            let changed: [UInt8]?
            switch coding {
            case .identity:
                changed = try redactBody(input, contentType: contentType, session: session)
            case .gzip, .deflate:
                let plain: [UInt8]
                let metadata: Bool
                do {
                    (plain, metadata) = try Compression.decompressNotingMetadata(input, coding: coding, limits: limits)
                } catch {
                    throw Stop.uninspectable(error.reason)
                }
                let redacted = try plain.withUnsafeBufferPointer { (buffer) throws(Stop) -> [UInt8]? in
                    try redactBody(buffer, contentType: contentType, session: session)
                }
                // A gzip header's file name, comment or extra field is not content: it never leaves. A body that
                // carries one is re-compressed without it, changed or not.
                changed = (redacted ?? (metadata ? plain : nil)).map { Compression.compress($0, coding: coding) }
            }
            guard let changed else { return .unchanged(findings: session.findings) }
            return .forward(body: changed, findings: session.findings)
        } catch {
            switch error {
            // Reasons name keys and parts as they left already; what else they quote (a media type, a charset, a
            // header value) is scrubbed here, so a reason never holds what the policy hides.
            case .blocked(let rule, let reason):
                return .block(rule: rule, reason: session.scrubbed(reason), findings: session.findings)
            case .uninspectable(let reason), .uninspectablePayload(let reason):
                return .uninspectable(reason: session.scrubbed(reason), findings: session.findings)
            }
        }
    }

    /// Redacts a decoded body by its media type. `nil`: forward unchanged.
    private func redactBody(
        _ body: UnsafeBufferPointer<UInt8>,
        contentType: String?,
        session: RedactionSession
    )
        throws(Stop) -> [UInt8]?
    {
        guard body.count > 0 else { return nil }
        let media = contentType.map(MediaType.init)
        let format = media?.format ?? .unknown
        if format != .unknown, format != .multipart, media?.unsupportedCharset != nil {
            // The charset is not quoted: it is text the lab sent (lower-cased here, so a case-sensitive rule could not
            // scrub it from the reason).
            throw .uninspectable("the declared charset cannot be inspected; send UTF-8")
        }
        switch format {
        case .json:
            return try ByteOrderMark.redactAfter(body) { (document) throws(Stop) in
                try JSONRedactor.redact(document, session: session)
            }
        case .jsonLines:
            return try ByteOrderMark.redactAfter(body) { (lines) throws(Stop) in
                try JSONLinesRedactor.redact(lines, session: session)
            }
        case .text:
            return try TextRedactor.redact(body, session: session, what: "the body", path: nil)
        case .form:
            let summary = UTF8Text.summarize(body)
            guard summary.valid else { throw .uninspectable("form body is not valid UTF-8") }
            return try FormRedactor.redact(body, session: session)
        case .multipart:
            return try MultipartRedactor.redact(body, media: media ?? MediaType(""), session: session)
        case .unknown:
            // An image (by its bytes, whatever the declared type) when the policy reads images; a body declared an
            // image that is none is refused rather than left to `content.unknown`.
            if session.inspectsImages {
                if let format = ImageFormat(sniffing: body) {
                    return try session.redactImage(body, format: format, path: { nil })
                }
                if media?.isImage == true {
                    throw .uninspectable("the body is declared an image but is not one Airlock can decode")
                }
            }
            switch unknownContent {
            case .pass:
                return nil
            case .block:
                session.record(rule: "content.unknown", action: .block, path: nil, value: nil)
                throw .blocked(
                    rule: "content.unknown",
                    reason:
                        "the body's Content-Type \(media == nil ? "(none) " : "")cannot be inspected and content.unknown is block"
                )
            }
        }
    }
}

extension Redactor {
    /// True when `bytes`, taken literally, could hold something the policy matches: the single-pass database
    /// reports a hit (before word boundaries, hotwords or detector options are checked), or the scan failed.
    ///
    /// False means `redactText` of the same bytes would find nothing, so a caller may skip it. Text the engine does
    /// not read literally always answers true: a `%XX` escape (matched decoded), a non-ASCII byte (compatibility
    /// forms, invisible characters, Unicode spaces and dashes are read folded) and anything that may be an embedded
    /// payload (a `data:` URL, a long base64 run): the raw scan cannot see a term spelled that way.
    public func mayMatch(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if let reporter, reporter.mayMatch(bytes) { return true }
        let text = bytes.bindMemory(to: UInt8.self)
        if let base = text.baseAddress, !text.isEmpty {
            if text.contains(where: { $0 == UInt8(ascii: "%") || $0 >= 0x80 }) { return true }
            if EmbeddedPayload.mayHold(base, lo: 0, hi: text.count) { return true }
        }
        guard let fast = rules.fast else { return false }
        let scratch = scratchPool.take()
        defer { scratchPool.give(scratch) }
        return fast.anyMatchOrFailure(bytes.bindMemory(to: UInt8.self), scratch: scratch)
    }

    /// Benchmark hook: scans `bytes` with the policy's single-pass database only (no structure, no resolution) and
    /// returns the number of raw hits. Measures the Vectorscan ceiling the full redaction is compared against.
    @_spi(Benchmark)
    public func rawScanHitCount(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard let fast = rules.fast else { return 0 }
        let scratch = scratchPool.take()
        defer { scratchPool.give(scratch) }
        let sink = HitSink()
        fast.scanEnds(bytes.bindMemory(to: UInt8.self), scratch: scratch, into: sink)
        return sink.hits.count
    }

    /// Benchmark hook: the single-pass database's expressions and Vectorscan flags, in id order.
    @_spi(Benchmark)
    public var benchmarkExpressions: [(pattern: String, flags: UInt32)] {
        rules.fastSources.map { ($0.pattern, $0.flags) }
    }
}
