import AirlockAudit
import AirlockRedaction
import AirlockSupport
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Serves `GET <public_url>/assets/<token>` to vendors: the token is opened and checked (vendor, expiry,
/// revocation), the original is fetched from inside the lab (``AssetFetcher``, only from ``AssetSources``), inspected
/// with the vendor's policy like a request body of its type (text, JSON, CSV, Markdown, HTML through the engine;
/// anything else per `content.unknown`), recorded in the audit log (durable before the first byte is answered, with
/// the served bytes in the body store) and answered with `Cache-Control: private`.
///
/// Records name the token by its fingerprint and never hold the original URL: the audit path is
/// `/assets/<fingerprint>`, the reason the media type or the refusal code. Refusals carry the code only: the vendor
/// learns nothing about the source.
final class AssetGateway: Sendable {
    struct Answer {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        var body: ByteBuffer
    }

    let keys: AssetSealingKeys
    let vendors: Set<String>
    let sources: AssetSources
    let fetcher: AssetFetcher
    let revocations: AssetRevocations
    let inspector: any EgressInspector
    let policyIdentity: @Sendable (String) -> String
    let recorder: any EgressRecorder
    let cache = AssetInspectionCache()
    let logger: Logger
    let now: @Sendable () -> Date

    init(
        keys: AssetSealingKeys,
        vendors: Set<String>,
        sources: AssetSources,
        fetcher: AssetFetcher,
        revocations: AssetRevocations,
        inspector: any EgressInspector,
        policyIdentity: @escaping @Sendable (String) -> String,
        recorder: any EgressRecorder,
        logger: Logger,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.keys = keys
        self.vendors = vendors
        self.sources = sources
        self.fetcher = fetcher
        self.revocations = revocations
        self.inspector = inspector
        self.policyIdentity = policyIdentity
        self.recorder = recorder
        self.logger = logger
        self.now = now
    }

    /// One fetch; the future always succeeds with the answer for the vendor.
    func handle(
        method: HTTPMethod,
        uri: String,
        requester: String?,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<Answer> {
        let id = UUID().uuidString.lowercased()
        let path = uri.prefix { $0 != "?" }
        guard method == .GET, path.hasPrefix("/assets/") else {
            return eventLoop.makeSucceededFuture(Self.error(.notFound, "not_found", "no such asset"))
        }
        let text = path.dropFirst("/assets/".count)
        let fingerprint = AssetToken.fingerprint(text)
        var record = Record(id: id, fingerprint: fingerprint, requester: requester, vendor: "unknown")
        let token: AssetToken
        switch AssetToken.open(text, keys: self.keys, vendors: self.vendors, now: self.now()) {
        case .success(let opened): token = opened
        case .failure(let failure):
            // Only a configured vendor is named: the prefix of a token that did not open (one too long to read)
            // is text of the sender's choosing.
            if let dot = text.firstIndex(of: "."), self.vendors.contains(String(text[..<dot])) {
                record.vendor = String(text[..<dot])
            }
            return self.refuse(.forbidden, failure.rawValue, "the asset token is not valid", record, on: eventLoop)
        }
        record.vendor = token.vendor
        let opened = record
        if self.revocations.current().revokes(token, fingerprint: fingerprint) {
            return self.refuse(
                .forbidden,
                AssetToken.Failure.revoked.rawValue,
                "the asset token is not valid",
                opened,
                on: eventLoop
            )
        }
        guard let target = self.sources.target(for: token.url) else {
            // Issued under another configuration: never fetched now.
            return self.refuse(
                .forbidden,
                "asset_source_not_allowed",
                "the asset is not available",
                opened,
                on: eventLoop
            )
        }
        return self.fetcher.fetch(target, on: eventLoop).flatMap { fetched in
            self.inspectAndServe(fetched, token: token, record: opened, on: eventLoop)
        }.flatMapError { error in
            let code = (error as? AssetFetcher.Failure)?.code ?? "asset_source_unreachable"
            return self.refuse(.badGateway, code, "the asset could not be fetched", opened, on: eventLoop)
        }
    }

    /// What every audit record of one fetch shares.
    struct Record {
        var id: String
        var fingerprint: String
        var requester: String?
        var vendor: String
        var mediaType: String?
        var bytes = 0

        var path: String { "/assets/\(self.fingerprint)" }
    }

    private func inspectAndServe(
        _ fetched: AssetFetcher.Fetched,
        token: AssetToken,
        record: Record,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<Answer> {
        var fetchedRecord = record
        let mediaType = Self.mediaType(fetched.contentType)
        fetchedRecord.mediaType = mediaType
        fetchedRecord.bytes = fetched.body.readableBytes
        let record = fetchedRecord
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: fetched.contentType ?? "application/octet-stream")
        let request = EgressRequest(
            id: record.id,
            vendor: token.vendor,
            method: .POST,
            path: "/assets",
            query: nil,
            headers: headers,
            body: fetched.body,
            client: EgressClient(address: record.requester)
        )
        // Hashing, like inspecting, runs off the event loop for a large file.
        let policy = self.policyIdentity(token.vendor)
        let (inspector, cache) = (self.inspector, self.cache)
        let decided = SeamRunner.run(bodyBytes: fetched.body.readableBytes, on: eventLoop) {
            let key = AssetInspectionCache.Key(
                vendor: token.vendor,
                policy: policy,
                mediaType: mediaType,
                content: fetched.body.withUnsafeReadableBytes { SHA256.hex($0) }
            )
            if let cached = cache.decision(for: key) { return cached }
            let decision = try inspector.inspect(request)
            cache.store(decision, for: key)
            return decision
        }
        return decided.flatMap { decision in
            switch decision {
            case .forward(let inspected):
                return self.serve(inspected, contentType: fetched.contentType, record: record, on: eventLoop)
            case .refuse(let refusal):
                return self.refuse(
                    refusal.status,
                    refusal.code,
                    "the asset was refused by Airlock's policy",
                    record,
                    rule: refusal.rule,
                    inspection: refusal.inspection,
                    on: eventLoop
                )
            }
        }.flatMapError { _ in
            self.refuse(
                .unprocessableEntity,
                "uninspectable_asset",
                "the asset cannot be inspected",
                record,
                on: eventLoop
            )
        }
    }

    private func serve(
        _ inspected: EgressRequest,
        contentType: String?,
        record: Record,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<Answer> {
        var renamed = inspected
        renamed.path = record.path
        let served = renamed
        let decision = EgressDecisionRecord(
            requestID: record.id,
            vendor: record.vendor,
            method: .GET,
            path: record.path,
            client: EgressClient(address: record.requester),
            decision: .forwarded,
            reason: Self.reason("asset_served", record),
            rule: nil,
            category: .allowed,
            direction: .egress,
            requestBytes: record.bytes,
            forwarded: served
        )
        let promise = eventLoop.makePromise(of: Void.self)
        self.recorder.recordDecision(decision, completing: promise)
        return promise.futureResult.map { _ in
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: Self.servedContentType(contentType))
            headers.add(name: "Cache-Control", value: "private")
            headers.add(name: "X-Content-Type-Options", value: "nosniff")
            headers.add(name: "X-Airlock-Request-Id", value: record.id)
            self.recorder.recordOutcome(
                EgressOutcomeRecord(
                    requestID: record.id,
                    vendor: record.vendor,
                    vendorStatus: 200,
                    error: nil,
                    durationNanoseconds: 0,
                    responseBytes: served.body.readableBytes
                )
            ) { error in
                self.logger.error("asset outcome not recorded", metadata: ["airlock.error": "\(error)"])
            }
            return Answer(status: .ok, headers: headers, body: served.body)
        }.flatMapError { _ in
            eventLoop.makeSucceededFuture(
                Self.error(
                    .serviceUnavailable,
                    "audit_unavailable",
                    "the asset could not be recorded, so it was not served"
                )
            )
        }
    }

    /// The reason category of a refused fetch: a token that does not open (or was revoked) is unauthenticated, a
    /// source outside the allowlist not allowed, a failed fetch the source's error, a refusal by the policy its own.
    static func category(_ status: HTTPResponseStatus, code: String, rule: String?) -> ReasonCategory {
        switch status {
        case .badGateway, .gatewayTimeout: return .vendorError
        case .unprocessableEntity: return .uninspectable
        case .payloadTooLarge: return .limit
        case .serviceUnavailable: return .audit
        case .forbidden where rule != nil: return .policyBlock
        case .forbidden where code == "asset_source_not_allowed": return .routeNotAllowed
        case .forbidden, .gone, .notFound: return .unauthenticated
        default: return rule != nil ? .policyBlock : .uninspectable
        }
    }

    private func refuse(
        _ status: HTTPResponseStatus,
        _ code: String,
        _ message: String,
        _ record: Record,
        rule: String? = nil,
        inspection: EgressInspection? = nil,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<Answer> {
        let decision = EgressDecisionRecord(
            requestID: record.id,
            vendor: record.vendor,
            method: .GET,
            path: record.path,
            client: EgressClient(address: record.requester),
            decision: status == .badGateway ? .error : .blocked,
            reason: Self.reason(code, record),
            rule: rule,
            category: Self.category(status, code: code, rule: rule),
            direction: .egress,
            requestBytes: record.bytes,
            forwarded: nil,
            inspection: inspection,
            status: Int(status.code)
        )
        self.logger.notice(
            "asset refused",
            metadata: [
                "airlock.request_id": "\(record.id)", "airlock.vendor": "\(record.vendor)",
                "airlock.asset": "\(record.fingerprint)", "airlock.reason": "\(code)",
            ]
        )
        let promise = eventLoop.makePromise(of: Void.self)
        self.recorder.recordDecision(decision, completing: promise)
        return promise.futureResult.map { _ in
            Self.error(status, code, message)
        }.flatMapError { _ in
            eventLoop.makeSucceededFuture(
                Self.error(.serviceUnavailable, "audit_unavailable", "the asset fetch could not be recorded")
            )
        }
    }

    /// `code type=media/type`, the media type when one is known.
    private static func reason(_ code: String, _ record: Record) -> String {
        record.mediaType.map { "\(code) type=\($0)" } ?? code
    }

    /// The media type alone, lower-cased, limited to token characters (it comes from a server inside the lab).
    static func mediaType(_ contentType: String?) -> String {
        let type = (contentType ?? "").split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard let type, !type.isEmpty, type.count <= 100,
            type.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "/.+-_".contains($0)) })
        else { return "unknown" }
        return type
    }

    /// The Content-Type the vendor is given: the media type and a plain charset, nothing else of the source's header
    /// (a `name=` parameter can carry the file's name).
    static func servedContentType(_ contentType: String?) -> String {
        let type = Self.mediaType(contentType)
        guard type != "unknown" else { return "application/octet-stream" }
        let charset = (contentType ?? "").split(separator: ";").dropFirst().lazy
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            .first { $0.hasPrefix("charset=") }
        guard let charset, charset.dropFirst(8).allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
        else { return type }
        return "\(type); \(charset)"
    }

    static func error(_ status: HTTPResponseStatus, _ code: String, _ message: String) -> Answer {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Cache-Control", value: "no-store")
        let refusal = EgressRefusal(status: status, code: code, message: message)
        return Answer(
            status: status,
            headers: headers,
            body: ErrorResponse.body(refusal, allocator: ByteBufferAllocator())
        )
    }
}
