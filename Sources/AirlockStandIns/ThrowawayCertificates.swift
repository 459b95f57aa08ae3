import AirlockTLS
import Foundation

/// A development CA and certificates for Airlock and the stand-in vendor, minted into a fresh temporary directory.
///
/// For the built-in demo and tests only: the CA key is written next to the certificates and everything is deleted by
/// `remove()`. Both leaves are valid for `localhost` and `127.0.0.1`.
public struct ThrowawayCertificates: Sendable {
    public let directory: String
    public let caCertificatePath: String
    public let airlockCertificatePath: String
    public let airlockKeyPath: String
    public let vendorCertificatePath: String
    public let vendorKeyPath: String
    public let authority: CertificateAuthority

    public static func create(commonName: String = "Airlock throwaway CA") throws -> ThrowawayCertificates {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("airlock-\(UInt64.random(in: 0...UInt64.max))", isDirectory: true)
        try FileManager.default.createDirectory(
            at: directory,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        let authority = try CertificateAuthority(selfSignedCommonName: commonName)
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        try Self.write(authority.certificate.pemRepresentation, to: path("ca.crt"), mode: 0o644)
        for name in ["airlock", "vendor"] {
            let key = try PrivateKey(generating: .ecdsaP256)
            let certificate = try authority.issue(
                commonName: name,
                dnsNames: ["localhost"],
                ipAddresses: ["127.0.0.1"],
                usage: .server,
                key: key
            )
            try Self.write(certificate.pemRepresentation, to: path("\(name).crt"), mode: 0o644)
            try Self.write(key.pemRepresentation, to: path("\(name).key"), mode: 0o600)
        }
        return ThrowawayCertificates(
            directory: directory.path,
            caCertificatePath: path("ca.crt"),
            airlockCertificatePath: path("airlock.crt"),
            airlockKeyPath: path("airlock.key"),
            vendorCertificatePath: path("vendor.crt"),
            vendorKeyPath: path("vendor.key"),
            authority: authority
        )
    }

    public static func write(_ text: String, to path: String, mode: Int) throws {
        guard
            FileManager.default.createFile(
                atPath: path,
                contents: Data(text.utf8),
                attributes: [.posixPermissions: mode]
            )
        else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: self.directory)
    }
}
