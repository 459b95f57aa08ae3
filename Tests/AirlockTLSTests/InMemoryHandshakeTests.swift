import AirlockTLS
import Foundation
import NIOCore
import NIOEmbedded
import NIOTLS
import Testing

@Suite("TLS handlers, in memory")
struct InMemoryHandshakeTests {
    let pki = TestPKI.shared

    func serverContext(
        certificate: String? = nil,
        key: String? = nil,
        clientCA: String? = nil
    ) throws -> TLSServerContext {
        try TLSServerContext(
            configuration: TLSServerConfiguration(
                certificateChainPath: certificate ?? self.pki.serverCertificate,
                privateKeyPath: key ?? self.pki.serverKey,
                clientCAPath: clientCA
            )
        )
    }

    func clientContext(pins: [String] = [], withClientCertificate: Bool = false) throws -> TLSClientContext {
        try TLSClientContext(
            configuration: TLSClientConfiguration(
                trustRoots: .file(self.pki.caCertificate),
                pinnedSPKISHA256: pins,
                certificateChainPath: withClientCertificate ? self.pki.clientCertificate : nil,
                privateKeyPath: withClientCertificate ? self.pki.clientKey : nil
            )
        )
    }

    /// A subject with several CNs: the peer identity a handshake reports and `Certificate.commonName` agree on the
    /// last (most specific) one, so an mTLS identity in the audit log matches what `airlock certs` shows.
    @Test func severalCommonNamesReadAsTheLastOneEverywhere() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-cn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificate = directory.appendingPathComponent("server.crt").path
        let key = directory.appendingPathComponent("server.key").path
        let made = try CertificateTestOpenSSL.run([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
            "-out", certificate, "-days", "2", "-subj", "/O=Airlock test/CN=outer name/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost",
        ])
        #expect(made.status == 0, "\(made.standardError)")
        let client = try TLSClientContext(configuration: TLSClientConfiguration(trustRoots: .file(certificate)))
        let pair = try InMemoryPair(
            server: self.serverContext(certificate: certificate, key: key),
            client: client,
            hostname: "localhost"
        )
        defer { pair.finish() }
        try pair.connect()
        try pair.interact()
        #expect(pair.clientRecorder.errors.isEmpty && pair.serverRecorder.errors.isEmpty)
        #expect(pair.clientHandler.peerIdentity?.commonName == "localhost")
        #expect(try Certificate(pemFile: certificate).commonName == "localhost")
    }

    @Test func handshakeThenDataBothWays() throws {
        let pair = try InMemoryPair(server: self.serverContext(), client: self.clientContext(), hostname: "localhost")
        defer { pair.finish() }
        try pair.connect()

        // Written before the handshake: must wait for it, then arrive intact.
        let written = pair.client.eventLoop.makePromise(of: Void.self)
        pair.client.writeAndFlush(ByteBuffer(string: "hello vendor"), promise: written)
        try pair.interact()

        #expect(pair.serverRecorder.receivedText == "hello vendor")
        #expect(throws: Never.self) { try written.futureResult.wait() }
        #expect(pair.clientRecorder.events == [.handshakeCompleted(negotiatedProtocol: "http/1.1")])
        #expect(pair.serverRecorder.events == [.handshakeCompleted(negotiatedProtocol: "http/1.1")])
        #expect(pair.serverHandler.serverName == "localhost")
        #expect(pair.serverHandler.negotiatedProtocol == "http/1.1")
        #expect(pair.clientHandler.protocolVersion == "TLSv1.3")
        #expect(pair.clientHandler.peerIdentity?.commonName == "localhost")
        #expect(pair.clientHandler.peerIdentity?.subjectAlternativeNames == ["localhost", "127.0.0.1"])
        #expect(pair.serverHandler.peerIdentity == nil)

        pair.server.writeAndFlush(ByteBuffer(string: "hello lab"), promise: nil)
        try pair.interact()
        #expect(pair.clientRecorder.receivedText == "hello lab")
        #expect(pair.clientRecorder.errors.isEmpty && pair.serverRecorder.errors.isEmpty)
    }

    @Test func writesWaitForFlush() throws {
        let pair = try InMemoryPair(server: self.serverContext(), client: self.clientContext(), hostname: "localhost")
        defer { pair.finish() }
        try pair.connect()
        try pair.interact()

        pair.client.write(ByteBuffer(string: "one "), promise: nil)
        pair.client.write(ByteBuffer(string: "two"), promise: nil)
        #expect(try pair.client.readOutbound(as: ByteBuffer.self) == nil)
        pair.client.flush()
        // Both writes leave as one piece of ciphertext, in a single TLS record.
        let ciphertext = try #require(try pair.client.readOutbound(as: ByteBuffer.self))
        #expect(try pair.client.readOutbound(as: ByteBuffer.self) == nil)
        #expect(Self.recordCount(ciphertext) == 1)
        try pair.server.writeInbound(ciphertext)
        #expect(pair.serverRecorder.receivedText == "one two")
    }

    @Test func largeWritesAreSplitIntoFullRecords() throws {
        let pair = try InMemoryPair(server: self.serverContext(), client: self.clientContext(), hostname: "localhost")
        defer { pair.finish() }
        try pair.connect()
        try pair.interact()
        pair.client.write(ByteBuffer(string: "head\r\n"), promise: nil)
        pair.client.write(ByteBuffer(repeating: UInt8(ascii: "x"), count: 40_000), promise: nil)
        pair.client.flush()
        var ciphertext = ByteBuffer()
        while var piece = try pair.client.readOutbound(as: ByteBuffer.self) { ciphertext.writeBuffer(&piece) }
        // 6 bytes alone, then 40,000 bytes in records of at most 16 KiB.
        #expect(Self.recordCount(ciphertext) == 4)
        try pair.server.writeInbound(ciphertext)
        #expect(pair.serverRecorder.received.readableBytes == 40_006)
    }

    /// Counts TLS records (5-byte header: type, version, length) in a piece of ciphertext.
    static func recordCount(_ buffer: ByteBuffer) -> Int {
        var buffer = buffer
        var count = 0
        while buffer.readableBytes >= 5 {
            guard let length = buffer.getInteger(at: buffer.readerIndex + 3, as: UInt16.self),
                buffer.readableBytes >= 5 + Int(length)
            else { return -1 }
            buffer.moveReaderIndex(forwardBy: 5 + Int(length))
            count += 1
        }
        return buffer.readableBytes == 0 ? count : -1
    }

    @Test func ipAddressIsCheckedAgainstIPSubjectAltNames() throws {
        let pair = try InMemoryPair(server: self.serverContext(), client: self.clientContext(), hostname: "127.0.0.1")
        defer { pair.finish() }
        try pair.connect()
        try pair.interact()
        #expect(pair.clientRecorder.events == [.handshakeCompleted(negotiatedProtocol: "http/1.1")])
        // No SNI for IP literals (RFC 6066).
        #expect(pair.serverHandler.serverName == nil)
    }

    @Test func mutualTLSExposesTheClientIdentity() throws {
        let pair = try InMemoryPair(
            server: self.serverContext(clientCA: self.pki.caCertificate),
            client: self.clientContext(withClientCertificate: true),
            hostname: "localhost"
        )
        defer { pair.finish() }
        try pair.connect()
        pair.client.writeAndFlush(ByteBuffer(string: "ping"), promise: nil)
        try pair.interact()
        #expect(pair.serverRecorder.receivedText == "ping")
        #expect(pair.serverHandler.peerIdentity?.commonName == "lab-client")
        #expect(pair.serverHandler.peerIdentity?.subjectAlternativeNames == ["lab-client.internal"])
    }

    @Test func mutualTLSRefusesAClientWithoutCertificate() throws {
        let pair = try InMemoryPair(
            server: self.serverContext(clientCA: self.pki.caCertificate),
            client: self.clientContext(),
            hostname: "localhost"
        )
        defer { pair.finish() }
        try pair.connect()
        pair.client.writeAndFlush(ByteBuffer(string: "let me in"), promise: nil)
        try pair.interact()
        #expect(pair.serverRecorder.receivedText == "")
        #expect(pair.serverRecorder.tlsErrors.map(\.code) == [.verificationFailed])
        #expect(pair.serverRecorder.tlsErrors.first?.message.contains("no client certificate") == true)
        #expect(!pair.server.isActive)
    }

    @Test(arguments: [
        ("wrong host", "hostname mismatch"),
        ("expired", "certificate has expired"),
        ("untrusted", "unable to get local issuer certificate"),
    ])
    func clientRefusesABadServerCertificate(kind: String, reason: String) throws {
        let (certificate, key): (String, String)
        switch kind {
        case "wrong host": (certificate, key) = (self.pki.wrongHostCertificate, self.pki.wrongHostKey)
        case "expired": (certificate, key) = (self.pki.expiredCertificate, self.pki.expiredKey)
        default: (certificate, key) = (self.pki.untrustedServerCertificate, self.pki.untrustedServerKey)
        }
        let pair = try InMemoryPair(
            server: self.serverContext(certificate: certificate, key: key),
            client: self.clientContext(),
            hostname: "localhost"
        )
        defer { pair.finish() }
        try pair.connect()
        let written = pair.client.eventLoop.makePromise(of: Void.self)
        pair.client.writeAndFlush(ByteBuffer(string: "secret task"), promise: written)
        try pair.interact()

        let error = try #require(pair.clientRecorder.tlsErrors.first)
        #expect(error.code == .verificationFailed)
        #expect(error.message.contains(reason), "\(error)")
        #expect(pair.serverRecorder.receivedText == "")
        #expect(throws: TLSError.self) { try written.futureResult.wait() }
        #expect(!pair.client.isActive)
    }

    @Test func pinnedKeyMustMatch() throws {
        let wrongPin = try self.pki.pin(of: self.pki.otherCACertificate)
        let pair = try InMemoryPair(
            server: self.serverContext(),
            client: self.clientContext(pins: [wrongPin]),
            hostname: "localhost"
        )
        defer { pair.finish() }
        try pair.connect()
        pair.client.writeAndFlush(ByteBuffer(string: "secret task"), promise: nil)
        try pair.interact()
        #expect(pair.clientRecorder.tlsErrors.map(\.code) == [.pinMismatch])
        #expect(pair.serverRecorder.receivedText == "")
    }

    @Test(arguments: ["leaf", "ca"])
    func pinOfLeafOrCAIsAccepted(which: String) throws {
        let pin = try self.pki.pin(of: which == "leaf" ? self.pki.serverCertificate : self.pki.caCertificate)
        let pair = try InMemoryPair(
            server: self.serverContext(),
            client: self.clientContext(pins: [pin]),
            hostname: "localhost"
        )
        defer { pair.finish() }
        try pair.connect()
        pair.client.writeAndFlush(ByteBuffer(string: "task"), promise: nil)
        try pair.interact()
        #expect(pair.clientRecorder.errors.isEmpty)
        #expect(pair.serverRecorder.receivedText == "task")
    }

    @Test func malformedPinIsAConfigurationError() throws {
        #expect {
            try self.clientContext(pins: ["not-base64!"])
        } throws: { error in
            (error as? TLSError)?.code == .configuration
        }
    }

    @Test func closeSendsCloseNotifyAndThePeerAnswers() throws {
        let pair = try InMemoryPair(server: self.serverContext(), client: self.clientContext(), hostname: "localhost")
        defer { pair.finish() }
        try pair.connect()
        try pair.interact()

        let closed = pair.client.eventLoop.makePromise(of: Void.self)
        pair.client.close(promise: closed)
        try pair.interact()
        #expect(throws: Never.self) { try closed.futureResult.wait() }
        #expect(!pair.server.isActive)
        #expect(pair.serverRecorder.becameInactive)
        #expect(pair.serverRecorder.errors.isEmpty, "a close_notify is a clean close")
        #expect(pair.clientRecorder.errors.isEmpty)
    }

    @Test func abruptCloseIsReportedAsUnclean() throws {
        let pair = try InMemoryPair(server: self.serverContext(), client: self.clientContext(), hostname: "localhost")
        defer { pair.finish() }
        try pair.connect()
        try pair.interact()
        // The TCP connection drops with no close_notify.
        pair.server.pipeline.fireChannelInactive()
        #expect(pair.serverRecorder.tlsErrors.map(\.code) == [.uncleanShutdown])
    }

    @Test func garbageInsteadOfClientHelloClosesCleanly() throws {
        let server = EmbeddedChannel()
        let recorder = Recorder()
        try server.pipeline.syncOperations.addHandler(try self.serverContext().makeHandler())
        try server.pipeline.syncOperations.addHandler(recorder)
        _ = try server.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 443)).wait()
        try server.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: airlock\r\n\r\n"))
        #expect(recorder.tlsErrors.map(\.code) == [.handshakeFailed])
        #expect(!server.isActive)
        #expect(recorder.received.readableBytes == 0)
        _ = try? server.finish(acceptAlreadyClosed: true)
    }

    @Test func sessionsResumeWithTheSameClientContext() throws {
        let serverContext = try self.serverContext()
        let clientContext = try self.clientContext()
        var resumed: [Bool] = []
        for _ in 0..<2 {
            let pair = try InMemoryPair(server: serverContext, client: clientContext, hostname: "localhost")
            try pair.connect()
            pair.client.writeAndFlush(ByteBuffer(string: "x"), promise: nil)
            pair.server.writeAndFlush(ByteBuffer(string: "y"), promise: nil)
            try pair.interact()
            #expect(pair.serverRecorder.receivedText == "x")
            resumed.append(pair.clientHandler.sessionReused)
            pair.finish()
        }
        #expect(resumed == [false, true])
    }
}
