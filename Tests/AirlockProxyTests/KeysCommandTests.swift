import AirlockRedaction
import AirlockStandIns
import Foundation
import Testing

/// `airlock keys`: rotating and retiring pseudonym keys are explicit steps on the keyring file.
struct KeysCommandTests {
    static func airlock(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServeCommandTests.airlockBinary)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    @Test func rotateListAndRetire() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-keys-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = directory.appendingPathComponent("pseudonym.key").path
        try ThrowawayCertificates.write(PseudonymKeys.generateKeyFileContents(), to: key, mode: 0o600)
        let first = try PseudonymKeys(contentsOf: URL(fileURLWithPath: key)).ring[0].secret

        #expect(try Self.airlock(["keys", "rotate", "--key-file", key, "--id", "2027-q1"]).status == 0)
        #expect(try Self.airlock(["keys", "list", "--key-file", key]).output == "2027-q1 (current)\ndefault\n")
        let ring = try PseudonymKeys(contentsOf: URL(fileURLWithPath: key)).ring
        #expect(ring.map(\.id) == ["2027-q1", "default"] && ring[1].secret == first && ring[0].secret != first)
        let mode = try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        let current = try Self.airlock(["keys", "retire", "--key-file", key, "--id", "2027-q1"])
        #expect(current.status == 1 && current.output.contains("current key"))
        #expect(try Self.airlock(["keys", "retire", "--key-file", key, "--id", "default"]).status == 0)
        #expect(try Self.airlock(["keys", "list", "--key-file", key]).output == "2027-q1 (current)\n")

        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: key)
        let open = try Self.airlock(["keys", "list", "--key-file", key])
        #expect(open.status == 1 && open.output.contains("chmod 600"), "\(open.output)")
    }

    /// `airlock serve` refuses to start when any key it reads is readable by others: the pseudonym keyring, the
    /// listener's TLS key, the audit signing key.
    @Test(arguments: ["pseudonym.key", "airlock.key", "audit-signing.key"])
    func serveRefusesKeyFilesOthersCanRead(_ name: String) throws {
        let certificates = try ThrowawayCertificates.create()
        defer { certificates.remove() }
        let directory = certificates.directory
        try "version: 1\nname: ok\n".write(toFile: directory + "/policy.yaml", atomically: true, encoding: .utf8)
        try ThrowawayCertificates.write(
            PseudonymKeys.generateKeyFileContents(),
            to: directory + "/pseudonym.key",
            mode: 0o600
        )
        let signing = Process()
        signing.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        signing.arguments = ["genpkey", "-algorithm", "ed25519", "-out", directory + "/audit-signing.key"]
        try signing.run()
        signing.waitUntilExit()
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o600],
            ofItemAtPath: directory + "/audit-signing.key"
        )
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: directory + "/" + name)
        try """
        listen:
          address: 127.0.0.1:0
          tls: {certificate: airlock.crt, key: airlock.key}
        vendors:
          - {name: scale, path_prefix: /scale, upstream: "https://127.0.0.1:1", ca: ca.crt,
             routes: ["POST /v1/task/*"], policy: policy.yaml}
        pseudonym_key: pseudonym.key
        audit: {directory: audit, signing_key: audit-signing.key}
        """.write(toFile: directory + "/airlock.yaml", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["20", ServeCommandTests.airlockBinary, "serve", "--config", directory + "/airlock.yaml"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1, "\(output)")
        #expect(output.contains(name) && output.contains("chmod 600"), "\(output)")
    }
}
