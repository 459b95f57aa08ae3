import AirlockTLS
import Foundation
import NIOCore
import NIOPosix
import Testing

/// What Airlock's listener accepts, against `openssl s_client`: TLS 1.2 as the minimum (1.1 and 1.0 refused by
/// Airlock, not by the client: the same client reaches an `openssl s_server` that allows them), client certificates
/// from a foreign CA refused under mTLS, and the SNI name the client sent seen on the server side.
@Suite("TLS listener: versions, foreign client certificates, SNI", .serialized)
struct ListenerPolicyTests {
    let pki = TestPKI.shared
    let group = MultiThreadedEventLoopGroup.singleton

    /// OpenSSL 3 disables TLS 1.0/1.1 at its default security level on the client too; level 0 lets it offer them.
    static let legacyCiphers = ["-cipher", "DEFAULT:@SECLEVEL=0"]

    func server(clientCA: String? = nil, certificate: String? = nil, key: String? = nil) throws -> LoopbackTLSServer {
        let context = try TLSServerContext(
            configuration: TLSServerConfiguration(
                certificateChainPath: certificate ?? self.pki.serverCertificate,
                privateKeyPath: key ?? self.pki.serverKey,
                clientCAPath: clientCA
            )
        )
        return try LoopbackTLSServer(context: context, group: self.group) { EchoHandler(closeAfter: 4) }
    }

    func sClient(port: Int, _ extra: [String], caFile: String? = nil) throws -> String {
        try Shell.capture(
            [
                "openssl", "s_client", "-connect", "127.0.0.1:\(port)", "-quiet", "-verify_return_error",
                "-CAfile", caFile ?? self.pki.caCertificate,
            ] + extra,
            input: Data("ping".utf8)
        ).output
    }

    @Test(arguments: [("-tls1_1", "TLS 1.1"), ("-tls1", "TLS 1.0")])
    func olderProtocolsAreRefused(flag: String, name: String) throws {
        // The control: this client does speak the old protocol, to a server that allows it.
        let port = try Ports.free()
        let legacy = try PeerProcess(
            [
                "openssl", "s_server", "-accept", "127.0.0.1:\(port)", "-cert", self.pki.serverCertificate,
                "-key", self.pki.serverKey, "-quiet", flag,
            ] + Self.legacyCiphers,
            waitForPort: port
        )
        let control = try Shell.capture(
            ["openssl", "s_client", "-connect", "127.0.0.1:\(port)", flag, "-brief"] + Self.legacyCiphers,
            input: Data("ping\n".utf8)
        ).output
        legacy.stop()
        try #require(control.contains("Protocol version: \(flag == "-tls1" ? "TLSv1" : "TLSv1.1")"), "\(control)")

        let server = try self.server()
        defer { server.close() }
        let output = try self.sClient(port: server.port, [flag, "-servername", "localhost"] + Self.legacyCiphers)
        #expect(!output.contains("ping"), "\(name) was accepted: \(output)")
        #expect(server.handshakes.withLockedValue { $0 }.isEmpty, "\(name) completed a handshake")
        #expect(server.errors.withLockedValue { $0 }.map(\.code) == [.handshakeFailed], "\(output)")
    }

    @Test func tls12IsTheMinimumAndIsAccepted() throws {
        let server = try self.server()
        defer { server.close() }
        let output = try self.sClient(port: server.port, ["-tls1_2", "-servername", "localhost"])
        #expect(output.contains("ping"), "\(output)")
        #expect(server.handshakes.withLockedValue { $0 }.map(\.protocolVersion) == ["TLSv1.2"])
    }

    @Test func theServerSeesTheNameTheClientAskedFor() throws {
        let server = try self.server()
        defer { server.close() }
        #expect(try self.sClient(port: server.port, ["-servername", "localhost"]).contains("ping"))
        #expect(try self.sClient(port: server.port, ["-noservername"]).contains("ping"))
        let names = server.handshakes.withLockedValue { $0 }.map(\.serverName)
        #expect(names == ["localhost", nil], "\(names)")
    }

    /// A well-formed client certificate for `lab-client`, valid now, from a CA the listener does not trust.
    @Test func mutualTLSRefusesAClientCertificateFromAForeignCA() throws {
        let fixture = try CertificateFixture.make()
        defer { fixture.remove() }
        let server = try self.server(
            clientCA: fixture.caPath,
            certificate: fixture.server.certificatePath,
            key: fixture.server.keyPath
        )
        defer { server.close() }
        let foreign = try self.sClient(
            port: server.port,
            [
                "-servername", "localhost", "-cert", fixture.untrustedClient.certificatePath,
                "-key", fixture.untrustedClient.keyPath,
            ],
            caFile: fixture.caPath
        )
        #expect(!foreign.contains("ping"), "\(foreign)")
        #expect(server.errors.withLockedValue { $0 }.map(\.code) == [.verificationFailed])
        #expect(server.identities.withLockedValue { $0 }.isEmpty)
        // The same listener takes the lab's own client.
        let own = try self.sClient(
            port: server.port,
            ["-servername", "localhost", "-cert", fixture.client.certificatePath, "-key", fixture.client.keyPath],
            caFile: fixture.caPath
        )
        #expect(own.contains("ping"), "\(own)")
        #expect(server.identities.withLockedValue { $0 }.count == 1)
    }
}
