import AirlockTLS
import Foundation
import NIOCore
import NIOPosix
import Testing

/// Airlock's TLS handlers against real peers over loopback sockets: `openssl s_client`, `openssl s_server`, `curl`.
@Suite("TLS handlers against real peers", .serialized)
struct RealPeerTests {
    let pki = TestPKI.shared
    let group = MultiThreadedEventLoopGroup.singleton

    func server(
        clientCA: String? = nil,
        application: @escaping @Sendable () -> ChannelHandler & Sendable
    ) throws
        -> LoopbackTLSServer
    {
        let context = try TLSServerContext(
            configuration: TLSServerConfiguration(
                certificateChainPath: self.pki.serverCertificate,
                privateKeyPath: self.pki.serverKey,
                clientCAPath: clientCA
            )
        )
        return try LoopbackTLSServer(context: context, group: self.group, application: application)
    }

    func sClient(port: Int, extra: [String] = [], input: Data) throws -> (status: Int32, output: String) {
        try Shell.capture(
            [
                "openssl", "s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost", "-quiet",
                "-verify_return_error", "-CAfile", self.pki.caCertificate,
            ] + extra,
            input: input
        )
    }

    @Test func opensslClientExchangesDataBothWays() throws {
        let server = try self.server { EchoHandler(closeAfter: 12) }
        defer { server.close() }
        let result = try self.sClient(port: server.port, input: Data("hello airlock".utf8))
        #expect(result.output.contains("hello airloc"), "\(result.output)")
        #expect(server.errors.withLockedValue { $0 }.isEmpty)
    }

    @Test func sixteenMebibytesArriveIntact() throws {
        let size = 16 * 1024 * 1024
        var generator = SystemRandomNumberGenerator()
        var payload = Data(count: size)
        payload.withUnsafeMutableBytes { bytes in
            for index in stride(from: 0, to: size, by: 8) {
                bytes.storeBytes(of: generator.next() as UInt64, toByteOffset: index, as: UInt64.self)
            }
        }
        let server = try self.server { EchoHandler(closeAfter: size) }
        defer { server.close() }
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-16m-\(UUID()).bin")
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-16m-\(UUID()).out")
        defer {
            try? FileManager.default.removeItem(at: input)
            try? FileManager.default.removeItem(at: output)
        }
        try payload.write(to: input)
        try Shell.run([
            "sh", "-c",
            "openssl s_client -connect 127.0.0.1:\(server.port) -servername localhost -quiet -verify_return_error "
                + "-CAfile '\(self.pki.caCertificate)' < '\(input.path)' > '\(output.path)' 2>/dev/null",
        ])
        let echoed = try Data(contentsOf: output)
        #expect(echoed.count == size)
        #expect(echoed == payload)
    }

    @Test func mutualTLSAcceptsTheLabClient() throws {
        let server = try self.server(clientCA: self.pki.caCertificate) { EchoHandler(closeAfter: 4) }
        defer { server.close() }
        let result = try self.sClient(
            port: server.port,
            extra: ["-cert", self.pki.clientCertificate, "-key", self.pki.clientKey],
            input: Data("ping".utf8)
        )
        #expect(result.output.contains("ping"), "\(result.output)")
        #expect(server.identities.withLockedValue { $0 }.first??.commonName == "lab-client")
    }

    @Test func mutualTLSRefusesAClientWithoutCertificate() throws {
        let server = try self.server(clientCA: self.pki.caCertificate) { EchoHandler(closeAfter: 4) }
        defer { server.close() }
        let result = try self.sClient(port: server.port, input: Data("ping".utf8))
        #expect(!result.output.contains("ping"))
        #expect(result.output.contains("alert") || result.output.contains("error"), "\(result.output)")
        let errors = server.errors.withLockedValue { $0 }
        #expect(errors.map(\.code) == [.verificationFailed])
    }

    @Test func curlSpeaksHTTPOverAirlockTLS() throws {
        let server = try self.server { FixedHTTPResponder(body: "hello from airlock") }
        defer { server.close() }
        let output = try Shell.run([
            "curl", "--silent", "--show-error", "--max-time", "10", "--cacert", self.pki.caCertificate,
            "-w", "\n%{http_version} %{ssl_verify_result}",
            "https://localhost:\(server.port)/a", "https://localhost:\(server.port)/b",
        ])
        #expect(output == "hello from airlock\n1.1 0hello from airlock\n1.1 0")
    }

    @Test func garbageInsteadOfClientHelloIsClosedAndTheServerGoesOn() throws {
        let server = try self.server { EchoHandler(closeAfter: 2) }
        defer { server.close() }
        let reply = try Shell.run([
            "sh", "-c",
            "printf 'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' | timeout 10 curl --silent telnet://127.0.0.1:\(server.port) | od -An -tx1 | head -c 40; echo",
        ])
        // At most a TLS alert (content type 0x15) comes back, never an echo.
        #expect(reply.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty || reply.contains("15 03"), "\(reply)")
        #expect(server.errors.withLockedValue { $0 }.map(\.code) == [.handshakeFailed])
        let result = try self.sClient(port: server.port, input: Data("ok".utf8))
        #expect(result.output.contains("ok"))
    }

    // MARK: Airlock's client against `openssl s_server`

    /// `openssl s_server` on a free port. A port found free can be taken by a parallel test before s_server binds
    /// it, so a start that fails is retried on another port.
    func sServer(certificate: String, key: String, extra: [String] = []) throws -> (PeerProcess, Int) {
        var attempt = 0
        while true {
            attempt += 1
            let port = try Ports.free()
            do {
                let process = try PeerProcess(
                    ["openssl", "s_server", "-accept", "127.0.0.1:\(port)", "-cert", certificate, "-key", key, "-www"]
                        + extra,
                    waitForPort: port
                )
                return (process, port)
            } catch {
                if attempt == 3 { throw error }
            }
        }
    }

    func client(pins: [String] = []) throws -> TLSClientContext {
        try TLSClientContext(
            configuration: TLSClientConfiguration(trustRoots: .file(self.pki.caCertificate), pinnedSPKISHA256: pins)
        )
    }

    @Test func airlockClientTalksToOpensslServerAndResumesSessions() throws {
        let (peer, port) = try self.sServer(certificate: self.pki.serverCertificate, key: self.pki.serverKey)
        defer { peer.stop() }
        let context = try self.client()
        let first = try ClientProbe.exchange(
            context: context,
            hostname: "localhost",
            port: port,
            request: "GET / HTTP/1.0\r\n\r\n"
        )
        #expect(first.text.hasPrefix("HTTP/1.0 200 ok"), "\(first.text.prefix(200))")
        #expect(first.errors.withLockedValue { $0 }.isEmpty)
        #expect(first.sessionReused.withLockedValue { $0 } == false)
        let second = try ClientProbe.exchange(
            context: context,
            hostname: "localhost",
            port: port,
            request: "GET / HTTP/1.0\r\n\r\n"
        )
        #expect(second.text.hasPrefix("HTTP/1.0 200 ok"))
        #expect(second.sessionReused.withLockedValue { $0 } == true)
    }

    @Test(arguments: ["wrong host", "expired", "untrusted CA"])
    func airlockClientRefusesBadServerCertificates(kind: String) throws {
        let (certificate, key, reason): (String, String, String)
        switch kind {
        case "wrong host":
            (certificate, key, reason) = (self.pki.wrongHostCertificate, self.pki.wrongHostKey, "hostname mismatch")
        case "expired":
            (certificate, key, reason) = (self.pki.expiredCertificate, self.pki.expiredKey, "expired")
        default:
            (certificate, key, reason) = (
                self.pki.untrustedServerCertificate, self.pki.untrustedServerKey, "unable to get local issuer"
            )
        }
        let (peer, port) = try self.sServer(certificate: certificate, key: key)
        defer { peer.stop() }
        let probe = try ClientProbe.exchange(
            context: self.client(),
            hostname: "localhost",
            port: port,
            request: "GET / HTTP/1.0\r\n\r\n"
        )
        let errors = probe.errors.withLockedValue { $0 }
        #expect(errors.map(\.code) == [.verificationFailed])
        #expect(errors.first?.message.contains(reason) == true, "\(errors)")
        #expect(probe.text.isEmpty)
    }

    @Test func airlockClientRefusesAPinMismatch() throws {
        let (peer, port) = try self.sServer(certificate: self.pki.serverCertificate, key: self.pki.serverKey)
        defer { peer.stop() }
        let wrongPin = try self.pki.pin(of: self.pki.untrustedServerCertificate)
        let probe = try ClientProbe.exchange(
            context: self.client(pins: [wrongPin]),
            hostname: "localhost",
            port: port,
            request: "GET / HTTP/1.0\r\n\r\n"
        )
        #expect(probe.errors.withLockedValue { $0 }.map(\.code) == [.pinMismatch])
        #expect(probe.text.isEmpty)
    }

    // MARK: TLS 1.2 cipher suites: AEAD only, both sides

    @Test func theListenerRefusesCBCSuitesOverTLS12() throws {
        let server = try self.server { EchoHandler(closeAfter: 4) }
        defer { server.close() }
        for suite in ["ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA", "ECDHE-ECDSA-AES128-SHA256"] {
            let refused = try self.sClient(
                port: server.port,
                extra: ["-tls1_2", "-cipher", suite],
                input: Data("ping".utf8)
            )
            #expect(!refused.output.contains("ping"), "\(suite): \(refused.output)")
        }
        for suite in ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"] {
            let accepted = try self.sClient(
                port: server.port,
                extra: ["-tls1_2", "-cipher", suite],
                input: Data("ping".utf8)
            )
            #expect(accepted.output.contains("ping"), "\(suite): \(accepted.output)")
        }
    }

    @Test(arguments: [
        ("ECDHE-ECDSA-AES128-SHA", false), ("ECDHE-ECDSA-AES256-SHA384", false),
        ("ECDHE-ECDSA-AES256-GCM-SHA384", true),
    ])
    func airlockClientOffersOnlyAEADSuitesOverTLS12(suite: String, agrees: Bool) throws {
        let (peer, port) = try self.sServer(
            certificate: self.pki.serverCertificate,
            key: self.pki.serverKey,
            extra: ["-tls1_2", "-cipher", suite]
        )
        defer { peer.stop() }
        let probe = try ClientProbe.exchange(
            context: self.client(),
            hostname: "localhost",
            port: port,
            request: "GET / HTTP/1.0\r\n\r\n"
        )
        if agrees {
            #expect(probe.text.hasPrefix("HTTP/1.0 200 ok"), "\(probe.text.prefix(200))")
        } else {
            #expect(probe.text.isEmpty, "\(probe.text.prefix(200))")
            #expect(probe.errors.withLockedValue { $0 }.map(\.code) == [.handshakeFailed])
        }
    }
}
