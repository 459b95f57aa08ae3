import AirlockTLS
import Foundation
import NIOPosix
import Testing

/// The forward proxy's interception CA and the leaves it mints, checked by the real `openssl` CLI and `s_client`.
@Suite("Interception certificates", .serialized)
struct InterceptionCertificateTests {
    static let listed = ["api.scale.com", "api.labelbox.com"]

    private func openssl(_ arguments: String...) throws -> CertificateTestOpenSSL.Output {
        try CertificateTestOpenSSL.run(arguments)
    }

    private func constrainedCA() throws -> CertificateAuthority {
        try CertificateAuthority(selfSignedCommonName: "Airlock interception CA", permittedDNSNames: Self.listed)
    }

    @Test func mintedLeafVerifiesForAListedNameAndIsShortLivedP256() throws {
        let scratch = try CertificateTests.Scratch()
        let minter = InterceptionCertificates(authority: try self.constrainedCA(), validity: 3600)
        let leaf = try minter.leaf(for: "api.scale.com").certificate
        let caPath = try scratch.write(minter.authority.certificate.pemRepresentation, "ca.crt")
        let leafPath = try scratch.write(leaf.pemRepresentation, "leaf.crt")

        let verified = try openssl(
            "verify",
            "-purpose",
            "sslserver",
            "-verify_hostname",
            "api.scale.com",
            "-CAfile",
            caPath,
            leafPath
        )
        #expect(verified.status == 0, "\(verified.text)\(verified.standardError)")
        #expect(leaf.subjectAlternativeNames == ["api.scale.com"])
        #expect(leaf.notAfter.timeIntervalSince(leaf.notBefore) <= 3600 + 300)
        let text = try openssl("x509", "-in", leafPath, "-noout", "-text").text
        #expect(text.contains("ASN1 OID: prime256v1") && text.contains("ecdsa-with-SHA256"), "\(text)")
        let caText = try openssl("x509", "-in", caPath, "-noout", "-text").text
        #expect(caText.contains("X509v3 Name Constraints: critical") && caText.contains("DNS:api.labelbox.com"))
        #expect(caText.contains("pathlen:0"))
    }

    /// A leaf the CA signs for a name outside its constraints (made here on purpose, as a thief of its key would)
    /// is rejected by `openssl verify`: the CA a lab distributes cannot be used to intercept anything else.
    @Test func nameConstraintsRejectALeafForAnUnlistedName() throws {
        let scratch = try CertificateTests.Scratch()
        let ca = try self.constrainedCA()
        let caPath = try scratch.write(ca.certificate.pemRepresentation, "ca.crt")
        for (name, addresses) in [
            ("mail.google.com", [String]()), ("api.scale.com.evil.example", []), ("x", ["10.0.0.1"]),
        ] {
            let leaf = try ca.issue(
                commonName: name,
                dnsNames: [name],
                ipAddresses: addresses,
                usage: .server,
                key: try PrivateKey(generating: .ecdsaP256)
            )
            let leafPath = try scratch.write(leaf.pemRepresentation, "unlisted.crt")
            let result = try openssl("verify", "-purpose", "sslserver", "-CAfile", caPath, leafPath)
            #expect(result.status != 0, "\(name) verified")
            #expect(
                (result.text + result.standardError).contains("subtree violation"),
                "\(result.text)\(result.standardError)"
            )
        }
        // The same unlisted name from an unconstrained CA verifies: the constraint is what rejects it.
        let open = try CertificateAuthority(selfSignedCommonName: "Unconstrained CA")
        let leaf = try open.issue(
            commonName: "mail.google.com",
            dnsNames: ["mail.google.com"],
            usage: .server,
            key: try PrivateKey(generating: .ecdsaP256)
        )
        let openPath = try scratch.write(open.certificate.pemRepresentation, "open.crt")
        let leafPath = try scratch.write(leaf.pemRepresentation, "open-leaf.crt")
        #expect(try openssl("verify", "-CAfile", openPath, leafPath).status == 0)
    }

    @Test func leavesAreCachedPerNameBoundedAndRenewed() throws {
        let minter = InterceptionCertificates(authority: try self.constrainedCA(), validity: 3600, capacity: 2)
        let start = Date()
        let first = try minter.leaf(for: "api.scale.com", now: start)
        let again = try minter.leaf(for: "api.scale.com", now: start.addingTimeInterval(60))
        #expect(first.context === again.context)
        #expect(minter.mintedCount == 1)
        _ = try minter.leaf(for: "api.labelbox.com", now: start)
        _ = try minter.leaf(for: "a.api.scale.com", now: start)
        #expect(minter.cachedCount == 2)
        #expect(minter.mintedCount == 3)
        // The oldest name left the cache: asking again mints anew.
        let evicted = try minter.leaf(for: "api.scale.com", now: start)
        #expect(evicted.context !== first.context)
        // Past half its validity a leaf is replaced.
        let renewed = try minter.leaf(for: "api.scale.com", now: start.addingTimeInterval(1900))
        #expect(renewed.context !== evicted.context)
        #expect(minter.mintedCount == 5)
    }

    /// The minted context accepts only its own name as SNI: `s_client` with another name, or none, gets no
    /// certificate and fails the handshake; with the name, it verifies against the interception CA.
    @Test func mintedContextRefusesAnotherServerName() throws {
        let scratch = try CertificateTests.Scratch()
        let minter = InterceptionCertificates(authority: try self.constrainedCA())
        let caPath = try scratch.write(minter.authority.certificate.pemRepresentation, "ca.crt")
        let server = try LoopbackTLSServer(
            context: try minter.leaf(for: "api.scale.com").context,
            group: MultiThreadedEventLoopGroup.singleton
        ) { EchoHandler(closeAfter: 5) }
        defer { server.close() }
        func connect(_ name: [String]) throws -> (status: Int32, output: String) {
            try Shell.capture(
                [
                    "openssl", "s_client", "-connect", "127.0.0.1:\(server.port)", "-quiet", "-verify_return_error",
                    "-verify_hostname", "api.scale.com", "-CAfile", caPath,
                ] + name,
                input: Data("hello".utf8)
            )
        }
        let good = try connect(["-servername", "api.scale.com"])
        #expect(good.status == 0 && good.output.contains("hello"), "\(good.output)")
        let other = try connect(["-servername", "api.labelbox.com"])
        #expect(other.status != 0 && other.output.contains("unrecognized name"), "\(other.output)")
        let none = try connect(["-noservername"])
        #expect(none.status != 0 && !none.output.contains("hello"), "\(none.output)")
    }
}
