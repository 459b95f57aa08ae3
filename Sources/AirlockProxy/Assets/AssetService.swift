import AirlockRedaction
import AirlockTLS
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The asset gateway's parts, built from the configuration: the minter the egress side issues tokens with, and the
/// gateway its listener serves.
struct AssetService: Sendable {
    let minter: AssetMinter
    let gateway: AssetGateway
    let serverTLS: TLSServerContext
    let configuration: AssetsConfiguration

    /// - Parameter inspector: the proxy's inspector (the policies, without the callback and asset rewriting: the
    ///   gateway wraps it itself, so fetched text is held to the same rules as a request body).
    /// - Throws: when the key file or the TLS material cannot be loaded (a key problem is reported as a TLS
    ///   configuration error: the server's constructor reports key material that way).
    init(
        configuration: ProxyConfiguration,
        assets: AssetsConfiguration,
        inspector: (any EgressInspector)?,
        recorder: any EgressRecorder,
        logger: Logger
    ) throws(TLSError) {
        let keyPath = assets.keyPath ?? configuration.pseudonymKeyPath ?? "Certs/pseudonym.key"
        let keys: AssetSealingKeys
        do {
            keys = AssetSealingKeys(try PseudonymKeys(contentsOf: URL(fileURLWithPath: keyPath)))
        } catch {
            throw TLSError(code: .configuration, message: "assets: \(error)")
        }
        self.configuration = assets
        self.minter = AssetMinter(
            keys: keys,
            publicBase: assets.publicURL.description,
            lifetimeSeconds: assets.tokenLifetimeSeconds,
            now: Date.init
        )
        let reloadable = inspector as? ReloadableInspector
        let minter = self.minter
        let chain = AssetRewritingInspector.chain(around: inspector, configuration: configuration, minter: minter)
        self.gateway = AssetGateway(
            keys: keys,
            vendors: Set(configuration.vendors.map(\.name)),
            sources: AssetSources(sources: assets.sources),
            fetcher: AssetFetcher(
                tls: try TLSClientContext(configuration: TLSClientConfiguration(trustRoots: assets.trustRoots)),
                addresses: assets.addresses,
                maxBytes: assets.maxBytes,
                timeout: .nanoseconds(Int64(assets.timeoutSeconds * 1e9))
            ),
            revocations: AssetRevocations(path: assets.revocationsPath),
            inspector: chain,
            policyIdentity: { vendor in reloadable?.policyIdentity(vendor: vendor) ?? "static" },
            recorder: recorder,
            logger: logger
        )
        self.serverTLS = try TLSServerContext(
            configuration: TLSServerConfiguration(
                certificateChainPath: assets.listen.tls.certificatePath,
                privateKeyPath: assets.listen.tls.keyPath
            )
        )
    }

    /// Binds the asset listener.
    /// Binds the asset listener; each accepted connection is handed to `accepted` first (the server tracks them, so
    /// a shutdown waits for and then cuts them too).
    func bind(
        group: any EventLoopGroup,
        accepted: @escaping @Sendable (any Channel) -> Void
    ) async throws -> any Channel {
        let gateway = self.gateway
        let tls = self.serverTLS
        let idle = TimeAmount.seconds(60)
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    accepted(channel)
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(tls.makeHandler())
                    // A vendor connection that sends nothing for this long is closed (the handler closes on idle).
                    try sync.addHandler(IdleStateHandler(readTimeout: idle))
                    try sync.configureHTTPServerPipeline(withErrorHandling: true)
                    try sync.addHandler(AssetHTTPHandler(gateway: gateway))
                }
            }
            .bind(host: self.configuration.listen.address.host, port: self.configuration.listen.address.port)
            .get()
    }
}
