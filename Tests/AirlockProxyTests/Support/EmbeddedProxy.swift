import AirlockStandIns
import AirlockTLS
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1

@testable import AirlockProxy

/// A lab connection's pipeline (request decoder and ``ProxyHTTPHandler``) on an `EmbeddedChannel`: no sockets, no
/// TLS, no threads. The vendor is never reached (its port is closed), so tests drive what is answered before it.
final class EmbeddedProxy {
    let channel = EmbeddedChannel()
    private let certificates: ThrowawayCertificates

    init(maxBodyBytes: Int = 1024, routes: [String] = ["POST /v1/task/*", "GET /v1/task/*"]) throws {
        self.certificates = try ThrowawayCertificates.create()
        let yaml = """
            listen:
              address: 127.0.0.1:0
              tls: {certificate: airlock.crt, key: airlock.key}
            limits:
              max_body_bytes: \(maxBodyBytes)
            vendors:
              - name: scale
                path_prefix: /scale
                upstream: https://127.0.0.1:9
                ca: ca.crt
                routes: [\(routes.map { "\"\($0)\"" }.joined(separator: ", "))]
                policy: none
            """
        let configuration = try ProxyConfiguration.parse(
            yaml: yaml,
            file: "test.yaml",
            baseDirectory: self.certificates.directory
        )
        var vendors: [VendorRuntime] = []
        for (index, vendor) in configuration.vendors.enumerated() {
            let tls = try TLSClientContext(
                configuration: TLSClientConfiguration(
                    trustRoots: vendor.trustRoots,
                    pinnedSPKISHA256: vendor.pinnedSPKISHA256
                )
            )
            vendors.append(VendorRuntime(index: index, configuration: vendor, tls: tls, loopCount: 1))
        }
        var logger = Logger(label: "airlock.test")
        logger.logLevel = .critical
        let core = ProxyCore(
            configuration: configuration,
            vendors: vendors,
            inspector: nil,
            recorder: NoOpRecorder(),
            metrics: ProxyMetrics(registry: PrometheusRegistry(), vendorNames: configuration.vendors.map(\.name)),
            logger: logger
        )
        let loop = LoopContext(core: core, eventLoop: self.channel.eventLoop)
        let sync = self.channel.pipeline.syncOperations
        try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
        try sync.addHandler(ProxyHTTPHandler(core: core, loop: loop))
        try self.channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40000)).wait()
    }

    /// Bytes from the lab, as one read.
    func send(_ text: String) throws {
        try self.channel.writeInbound(ByteBuffer(string: text))
    }

    /// Everything answered since the last call, as text.
    func answered() throws -> String {
        var text = ""
        while let buffer = try self.channel.readOutbound(as: ByteBuffer.self) {
            text += String(buffer: buffer)
        }
        return text
    }

    /// The status codes of the answers in `text`, in order.
    static func statuses(_ text: String) -> [Int] {
        text.components(separatedBy: "HTTP/1.1 ").dropFirst().compactMap { Int($0.prefix(3)) }
    }

    var isOpen: Bool { self.channel.isActive }

    func finish() {
        _ = try? self.channel.finish(acceptAlreadyClosed: true)
        self.certificates.remove()
    }
}
