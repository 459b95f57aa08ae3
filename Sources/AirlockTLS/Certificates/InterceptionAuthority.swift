import Foundation

/// The forward proxy's interception CA, which `airlock certs init --forward-host ...` writes next to the development
/// set: a P-256 CA whose X.509 name constraints permit only the vendor hosts Airlock intercepts (and names under
/// them), exclude every IP address and allow no sub-CA. A lab distributes this certificate to its pipelines as a
/// trust anchor; should its key leak, verifiers still refuse what it signs for any other name.
public enum InterceptionAuthority {
    /// The names `create` writes, in order.
    public static let fileNames = ["interception-ca.crt", "interception-ca.key"]

    /// Writes the CA certificate and key into `directory` (created if needed). Without `force`, throws
    /// `.alreadyExists` before writing anything if either file exists.
    @discardableResult
    public static func create(
        in directory: URL,
        hosts: [String],
        force: Bool = false
    ) throws(CertificateError) -> [DevelopmentCertificates.File] {
        let names = Array(Set(hosts.map { $0.lowercased() })).sorted()
        guard !names.isEmpty else {
            throw CertificateError(code: .invalidInput, message: "the interception CA needs at least one vendor host")
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw CertificateError(
                code: .io,
                message: "cannot create directory \(directory.path): \(CertificateBIO.reason(error))"
            )
        }
        if !force {
            for name in Self.fileNames
            where FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path) {
                throw DevelopmentCertificates.refusal(directory.appendingPathComponent(name).path)
            }
        }
        let ca = try CertificateAuthority(
            selfSignedCommonName: "Airlock interception CA",
            organization: "Airlock",
            notAfter: Date(timeIntervalSinceNow: 825 * 86_400),
            permittedDNSNames: names
        )
        let contents:
            [(name: String, kind: DevelopmentCertificates.File.Kind, summary: String, facts: [String], text: String)] =
                [
                    (
                        "interception-ca.crt", .certificate,
                        "interception CA (forward.ca.certificate; clients trust it), limited to \(names.joined(separator: " "))",
                        ["sha256 \(ca.certificate.sha256Fingerprint)"], try ca.certificate.pemRepresentation
                    ),
                    (
                        "interception-ca.key", .secret, "interception CA private key (forward.ca.key)",
                        ["public spki-sha256 \(ca.privateKey.spkiSHA256Base64)"], try ca.privateKey.pemRepresentation
                    ),
                ]
        var written: [DevelopmentCertificates.File] = []
        for item in contents {
            let path = directory.appendingPathComponent(item.name).path
            try AtomicFile.write(
                Array(item.text.utf8),
                to: path,
                mode: item.kind == .secret ? 0o600 : 0o644,
                overwrite: force
            )
            written.append(
                DevelopmentCertificates.File(
                    name: item.name,
                    path: path,
                    kind: item.kind,
                    summary: item.summary,
                    fingerprints: item.facts
                )
            )
        }
        AtomicFile.syncDirectory(directory.path)
        return written
    }
}
