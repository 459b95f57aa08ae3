import AirlockRedaction
import NIOCore

/// Wraps the proxy's inspector so attachment URLs are handled before and after it (see ``OutgoingAssets``).
struct AssetRewritingInspector: EgressInspector {
    let inner: (any EgressInspector)?
    let assets: OutgoingAssets

    init(wrapping inner: (any EgressInspector)?, assets: OutgoingAssets) {
        self.inner = inner
        self.assets = assets
    }

    /// The whole egress chain around `policy` (nil: no policy inspector): asset URLs, then callback URLs, then the
    /// policy. Requests leave through it, and the asset gateway inspects fetched files with it.
    static func chain(
        around policy: (any EgressInspector)?,
        configuration: ProxyConfiguration,
        minter: AssetMinter?
    ) -> AssetRewritingInspector {
        AssetRewritingInspector(
            wrapping: CallbackRewritingInspector(
                wrapping: policy,
                callbacks: OutgoingCallbacks(configuration: configuration.callbacks, vendors: configuration.vendors)
            ),
            assets: OutgoingAssets(configuration: configuration, minter: minter)
        )
    }

    func inspect(_ request: EgressRequest) throws -> EgressDecision {
        switch self.assets.prepare(request, finalURLs: self.inner == nil) {
        case .untouched:
            return try self.inner?.inspect(request) ?? .forward(request)
        case .refuse(let refusal):
            return .refuse(refusal)
        case .rewritten(let body, let plan):
            var prepared = request
            prepared.body = body
            let decision = try self.inner?.inspect(prepared) ?? .forward(prepared)
            return self.finish(decision, plan: plan)
        }
    }

    /// The wrapped chain's answer: this wrapper adds no image reading, and must not hide that the policy reads them
    /// (the request would then be inspected on an event loop, OCR included).
    func readsImages(_ request: EgressRequest) -> Bool {
        self.inner?.readsImages(request) ?? false
    }

    private func finish(_ decision: EgressDecision, plan: OutgoingAssets.Plan?) -> EgressDecision {
        guard case .forward(var request) = decision else { return decision }
        if let plan {
            switch self.assets.reinstate(request.body, plan: plan) {
            case .success(let body): request.body = body
            case .failure(var refusal):
                refusal.inspection = request.inspection
                return .refuse(refusal)
            }
        }
        let count = plan?.replacements.count ?? 1
        var inspection = request.inspection ?? EgressInspection(policy: "none", findings: [])
        inspection.findings.append(Finding(rule: OutgoingAssets.rule, action: "asset-gateway", count: count))
        request.inspection = inspection
        return .forward(request)
    }

    func transformResponse(_ response: EgressResponse, for request: EgressRequest) throws -> EgressResponse {
        try self.inner?.transformResponse(response, for: request) ?? response
    }
}
