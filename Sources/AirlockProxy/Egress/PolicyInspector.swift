import AirlockImages
import AirlockPolicy
import AirlockRedaction
import NIOCore
import NIOHTTP1

/// The redaction engine at the proxy's inspection seam: each request body is redacted with its vendor's policy
/// before it leaves, and pseudonyms in the vendor's response are restored before the lab sees it.
///
/// Fails closed: a vendor with no compiled policy may only send requests without a body (it was configured with
/// `policy: none`); a policy block answers 403 `blocked_by_policy` naming the rule; a body the engine cannot parse
/// answers 422 `uninspectable_body` with the parser's reason. In every refusal nothing reaches the vendor. Messages
/// carry rule ids and reasons, never matched values.
public struct PolicyInspector: EgressInspector {
    /// One compiled policy per vendor name; vendors absent here run without a policy. Keys are lower-cased once
    /// here, and configured vendor names are lower-case already, so requests look up their vendor as it is.
    let policies: [String: VendorPolicy]
    /// Per vendor with routes that have their own policy: its whole route list, in order (see ``RouteChoice``).
    let routes: [String: [RouteChoice]]

    public init(policies: [String: VendorPolicy], routes: [String: [RouteChoice]] = [:]) {
        var byName: [String: VendorPolicy] = [:]
        for (name, policy) in policies { byName[name.lowercased()] = policy }
        self.policies = byName
        var routesByName: [String: [RouteChoice]] = [:]
        for (name, choices) in routes where choices.contains(where: { $0.policy != nil }) {
            routesByName[name.lowercased()] = choices
        }
        self.routes = routesByName
    }

    /// The policy that inspects `request`: its route's own, else its vendor's; nil for `policy: none`.
    func policy(for request: EgressRequest) -> VendorPolicy? {
        if let choices = self.routes[request.vendor],
            let own = RouteChoice.ownPolicy(in: choices, method: request.method.rawValue, path: request.path)
        {
            return own
        }
        return self.policies[request.vendor]
    }

    /// The policy named `identity` among `vendor`'s (its own and its routes'), if any.
    func policy(vendor: String, identity: String) -> VendorPolicy? {
        if let policy = self.policies[vendor], policy.identity == identity { return policy }
        return self.routes[vendor]?.lazy.compactMap(\.policy).first { $0.identity == identity }
    }

    public func inspect(_ request: EgressRequest) -> EgressDecision {
        self.decide(request)
    }

    public func transformResponse(_ response: EgressResponse, for request: EgressRequest) throws -> EgressResponse {
        try self.restore(response, for: request)
    }

    public func readsImages(_ request: EgressRequest) -> Bool {
        guard let policy = self.policies[request.vendor] else { return false }
        return request.body.withUnsafeReadableBytes { bytes in
            policy.redactor.mayReadImages(
                bytes,
                contentType: request.headers.first(name: "content-type"),
                contentEncoding: request.headers.first(name: "content-encoding")
            )
        }
    }

    /// The enforced policy's decision; with a candidate policy, annotated with where the candidate would have decided
    /// otherwise (the decision itself unchanged).
    private func decide(_ request: EgressRequest) -> EgressDecision {
        let chosen = self.policy(for: request)
        let enforced = Self.decide(request, policy: chosen)
        // A route's own policy has no candidate: the candidate is compared with the vendor's policy only.
        guard let policy = chosen, let candidate = policy.candidate else { return enforced }
        return CandidateComparison.annotate(
            enforced,
            candidate: Self.decide(request, policy: candidate.asVendorPolicy),
            identity: candidate.identity,
            enforcedRedactor: policy.redactor,
            vendor: request.vendor
        )
    }

    private static func decide(_ request: EgressRequest, policy: VendorPolicy?) -> EgressDecision {
        guard let policy else {
            // `policy: none` is for routes that carry no content: reads and deletes, without a body.
            let contentless: Bool
            switch request.method {
            case .GET, .HEAD, .DELETE: contentless = true
            default: contentless = false
            }
            guard request.body.readableBytes == 0, contentless else {
                return .refuse(EgressRefusal(.noPolicyForContent(vendor: request.vendor)))
            }
            return .forward(request)
        }
        var request = request
        var findingsOutsideBody: [Finding] = []
        if let refusal = Self.redactURL(of: &request, findings: &findingsOutsideBody, policy: policy) {
            return .refuse(refusal)
        }
        // The body is parsed by its Content-Type as received.
        let contentType = request.headers.first(name: "content-type")
        let contentEncoding = request.headers.first(name: "content-encoding")
        if let refusal = Self.redactHeaders(of: &request, findings: &findingsOutsideBody, policy: policy) {
            return .refuse(refusal)
        }
        guard request.body.readableBytes > 0 else {
            return .forward(request.inspected(by: policy, findings: findingsOutsideBody))
        }
        let outcome = request.body.withUnsafeReadableBytes { bytes in
            policy.redactor.redactWithoutCopy(
                body: bytes,
                contentType: contentType,
                contentEncoding: contentEncoding,
                vendor: request.vendor
            )
        }
        switch outcome {
        case .unchanged(let findings):
            return .forward(request.inspected(by: policy, findings: findingsOutsideBody + findings))
        case .forward(let body, let findings):
            var forwarded = request.inspected(by: policy, findings: findingsOutsideBody + findings)
            forwarded.body = ByteBuffer(bytes: body)
            return .forward(forwarded)
        case .block(let rule, let reason, let findings):
            let inspection = EgressInspection(
                policy: policy.identity,
                findings: findingsOutsideBody + findings,
                redactedPath: request.path
            )
            return .refuse(EgressRefusal(.blockedByPolicy(rule: rule, reason: reason), inspection: inspection))
        case .uninspectable(let reason, let findings):
            let inspection = EgressInspection(
                policy: policy.identity,
                findings: findingsOutsideBody + findings,
                redactedPath: request.path
            )
            return .refuse(EgressRefusal(.uninspectableBody(reason), inspection: inspection))
        }
    }

    /// The path after the prefix and the query carry content too (ids, names, search terms): redacted in place, or
    /// the refusal.
    private static func redactURL(
        of request: inout EgressRequest,
        findings: inout [Finding],
        policy: VendorPolicy
    ) -> EgressRefusal? {
        switch URLPartRedaction.redact(
            path: request.path,
            query: request.query,
            redactor: policy.redactor,
            vendor: request.vendor
        ) {
        case .forward(let path, let query, let found):
            request.path = path
            request.query = query
            findings = found
            return nil
        case .block(let rule, let reason, let found):
            let inspection = EgressInspection(policy: policy.identity, findings: found)
            return EgressRefusal(.blockedByPolicy(rule: rule, reason: reason), inspection: inspection)
        case .uninspectable(let reason):
            return EgressRefusal(.uninspectableRequest(reason))
        }
    }

    /// So do header values: redacted in place, or the refusal. A multipart Content-Type whose value the policy
    /// changes is refused, since its boundary is repeated in the body.
    private static func redactHeaders(
        of request: inout EgressRequest,
        findings: inout [Finding],
        policy: VendorPolicy
    ) -> EgressRefusal? {
        let contentType = request.headers.first(name: "content-type")
        switch HeaderRedaction.redact(request.headers, redactor: policy.redactor, vendor: request.vendor) {
        case .unchanged:
            return nil
        case .forward(let headers, let found):
            if let contentType, contentType.lowercased().hasPrefix("multipart/"),
                headers.first(name: "content-type") != contentType
            {
                return EgressRefusal(
                    .uninspectableRequest(
                        "header:content-type: the policy would change a multipart Content-Type, whose boundary "
                            + "the body repeats"
                    )
                )
            }
            request.headers = headers
            findings += found
            return nil
        case .block(let rule, let reason, let found):
            let inspection = EgressInspection(
                policy: policy.identity,
                findings: findings + found,
                redactedPath: request.path
            )
            return EgressRefusal(.blockedByPolicy(rule: rule, reason: reason), inspection: inspection)
        case .uninspectable(let reason):
            return EgressRefusal(.uninspectableRequest(reason))
        }
    }

    private func restore(_ response: EgressResponse, for request: EgressRequest) throws -> EgressResponse {
        // Restored by the policy that redacted the request (a route's own one has its own terms).
        let inspectedBy = request.inspection.flatMap { self.policy(vendor: request.vendor, identity: $0.policy) }
        guard let policy = inspectedBy ?? self.policies[request.vendor], response.body.readableBytes > 0 else {
            return response
        }
        let body = Array(response.body.readableBytesView)
        let restored = try policy.redactor.restore(
            body: body,
            contentType: response.headers.first(name: "content-type"),
            contentEncoding: response.headers.first(name: "content-encoding"),
            vendor: request.vendor
        )
        guard restored != body else { return response }
        var changed = response
        changed.body = ByteBuffer(bytes: restored)
        return changed
    }
}

/// A vendor's compiled policy.
public struct VendorPolicy: Sendable {
    public var redactor: Redactor
    /// `name@sha256:…` of the loaded policy files, as the audit log and `/readyz` report it.
    public var identity: String
    /// Every file the policy was read from (the policy, its includes, its term files), to watch for changes.
    public var sourceFiles: [String]
    /// The vendor's candidate policy (`policy_candidate`), evaluated beside this one and never deciding.
    public var candidate: CandidatePolicy?

    public init(redactor: Redactor, identity: String, sourceFiles: [String] = [], candidate: CandidatePolicy? = nil) {
        self.candidate = candidate
        self.redactor = redactor
        self.identity = identity
        self.sourceFiles = sourceFiles
    }

    /// Loads, validates and compiles the policy at `path`. Slow (YAML, Vectorscan compile): call it off the event loop.
    ///
    /// - Parameter limits: the proxy's limits (their defaults when not given): a compressed request body may not
    ///   decompress past `max_body_bytes`, a compressed response past `max_response_bytes`.
    /// - Parameter exempting: rule ids left out (a route's `exempt_rules`); each must name a rule of the policy. The
    ///   identity then ends in `+exempt:<ids>`, so records say which rules did not apply.
    public static func load(
        path: String,
        keys: PseudonymKeys,
        limits: ProxyConfiguration.Limits = ProxyConfiguration.Limits(),
        exempting: [String] = []
    ) throws -> VendorPolicy {
        var policy = try PolicyLoader.load(path: path)
        if let images = policy.images { try ImageLane.inspector.prepare(images) }
        var identity = policy.identity
        if !exempting.isEmpty {
            policy = try policy.exempting(exempting)
            identity += "+exempt:" + exempting.joined(separator: ",")
        }
        let redactor = try Redactor(
            policy: policy,
            keys: keys,
            limits: DecompressionLimits(maxBytes: limits.maxBodyBytes, setting: "limits.max_body_bytes"),
            responseLimits: DecompressionLimits(
                maxBytes: limits.maxResponseBytes,
                setting: "limits.max_response_bytes"
            ),
            imageInspector: ImageLane.inspector
        )
        return VendorPolicy(redactor: redactor, identity: identity, sourceFiles: policy.sourceFiles)
    }
}

extension EgressRequest {
    fileprivate func inspected(by policy: VendorPolicy, findings: [Finding]) -> EgressRequest {
        var copy = self
        copy.inspection = EgressInspection(policy: policy.identity, findings: findings)
        return copy
    }
}
