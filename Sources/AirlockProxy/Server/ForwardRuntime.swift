import AirlockTLS
import Logging
import NIOCore
import NIOHTTP1

/// What the forward listener's connections share: the core their tunnels are served with (the lab listener's
/// vendors, seams, clients and refusal aggregator, each vendor's path prefix empty: in a tunnel the request path is
/// the vendor's own), the listed hosts, the interception CA's leaves, and the optional TLS of the proxy itself.
final class ForwardRuntime: Sendable {
    /// The name of the CONNECT phase's request decoder, removed once a tunnel is intercepted.
    static let connectDecoderName = "airlock-forward-connect-decoder"

    let settings: ProxyConfiguration.Forward
    let core: ProxyCore
    let hosts: ForwardHosts
    let interception: InterceptionCertificates
    let proxyTLS: TLSServerContext?
    let metrics: ForwardMetrics
    let deadlines: RequestDeadlines.Settings
    let clientIdle: TimeAmount
    /// From the accept, the CONNECT (and the proxy's own TLS handshake) must be done within this long.
    let connectDeadline: TimeAmount

    init(_ settings: ProxyConfiguration.Forward, labCore: ProxyCore, loopCount: Int) throws(TLSError) {
        let configuration = labCore.configuration
        self.settings = settings
        let authority: CertificateAuthority
        do {
            authority = try CertificateAuthority(
                certificatePEMFile: settings.caCertificatePath,
                privateKeyPEMFile: settings.caKeyPath
            )
        } catch {
            throw TLSError(
                code: .configuration,
                message: "forward.ca: \(error) (make it with `airlock certs init --forward-host <host> ...`)"
            )
        }
        // Every listed host must be one the CA can vouch for (its name constraints permit it): checked now, so a CA
        // made for other hosts fails the start instead of every client's handshake.
        for host in ForwardHosts(vendors: configuration.vendors).hosts {
            do {
                try authority.checkCanVouch(for: host)
            } catch {
                throw TLSError(
                    code: .configuration,
                    message: "forward.ca: \(error.message) (make one for every listed host: `airlock certs init "
                        + "--config FILE --interception-only --force`)"
                )
            }
        }
        self.interception = InterceptionCertificates(authority: authority, validity: settings.leafValiditySeconds)
        self.proxyTLS = try settings.tls.map { tls throws(TLSError) in
            try TLSServerContext(
                configuration: TLSServerConfiguration(
                    certificateChainPath: tls.certificatePath,
                    privateKeyPath: tls.keyPath
                )
            )
        }
        let vendors = labCore.vendors.map { vendor in
            var tunnelled = vendor.configuration
            tunnelled.pathPrefix = ""
            return VendorRuntime(index: vendor.index, configuration: tunnelled, tls: vendor.tls, loopCount: loopCount)
        }
        self.core = ProxyCore(
            configuration: configuration,
            vendors: vendors,
            inspector: labCore.inspector,
            recorder: labCore.recorder,
            metrics: labCore.metrics,
            logger: labCore.logger,
            clients: labCore.clients,
            refusals: labCore.refusals
        )
        self.hosts = ForwardHosts(vendors: configuration.vendors)
        self.metrics = ForwardMetrics(registry: labCore.metrics.registry)
        let limits = configuration.limits
        self.deadlines = RequestDeadlines.Settings(limits: limits)
        self.clientIdle = .nanoseconds(Int64(limits.clientIdleTimeoutSeconds * 1e9))
        self.connectDeadline = .nanoseconds(
            Int64((limits.tlsHandshakeTimeoutSeconds + limits.requestHeadTimeoutSeconds) * 1e9)
        )
    }

    /// Decides what a CONNECT head gets (see ``ConnectAdmission``).
    func decide(_ head: HTTPRequestHead) -> ConnectAdmission.Decision {
        let clients = self.core.clients
        return ConnectAdmission.decide(
            head,
            hosts: self.hosts,
            identify: { token in clients?.clientByToken(token) },
            clientMayUse: { client, vendor in clients?.may(client, use: vendor) ?? false },
            names: { client, vendor in
                (clients?.clients[client].name ?? "", self.core.vendors[vendor].configuration.name)
            }
        )
    }

    /// The leaf for `host`, counting a new one.
    func leaf(for host: String) throws(TLSError) -> InterceptionCertificates.Leaf {
        let before = self.interception.mintedCount
        let leaf = try self.interception.leaf(for: host)
        self.metrics.countMinted(self.interception.mintedCount - before)
        return leaf
    }

    /// Turns the connection into an intercepted tunnel right after `connectHandler`: TLS with `leaf`, the request
    /// deadlines, the idle timer, a fresh request decoder and the lab listener's own handler with the tunnel fixed.
    /// Then the CONNECT phase's handler and decoder leave; bytes the client sent after the CONNECT (a TLS
    /// ClientHello sent early) go to the new TLS handler, never anywhere else.
    func intercept(
        after connectHandler: ChannelHandlerContext,
        leaf: InterceptionCertificates.Leaf,
        tunnel: ProxyHTTPHandler.Tunnel,
        loop: LoopContext
    ) throws {
        let sync = connectHandler.pipeline.syncOperations
        let connectionMetrics = self.core.metrics.connections
        // One at a time, each after the one before: ProxyHTTPHandler finds the deadline handler when it is added
        // (`addHandlers(_:position: .after)` adds the last one first).
        var previous: any ChannelHandler = connectHandler.handler
        for handler: any ChannelHandler in [
            leaf.context.makeHandler(),
            RequestDeadlineHandler(settings: self.deadlines, metrics: connectionMetrics),
            IdleStateHandler(readTimeout: self.clientIdle),
            ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)),
            ProxyHTTPHandler(core: self.core, loop: loop, tunnel: tunnel),
        ] {
            try sync.addHandler(handler, position: .after(previous))
            previous = handler
        }
        sync.removeHandler(context: connectHandler, promise: nil)
        sync.removeHandler(name: Self.connectDecoderName, promise: nil)
    }
}
