import AirlockSupport
import Foundation
import Testing

@testable import AirlockAudit

#if canImport(Glibc)
import Glibc
#endif

/// A temporary audit directory (and key files), removed when the test ends.
final class Scratch {
    let root: URL
    var audit: URL { root.appendingPathComponent("audit") }

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    /// Writes a fresh Ed25519 pair; returns (private key path, public key path, key id).
    func keyPair(_ name: String = "audit-signing") throws -> (key: URL, pub: URL, keyID: String) {
        let pair = try AuditKeys.generateEd25519()
        let key = root.appendingPathComponent("\(name).key")
        let pub = root.appendingPathComponent("\(name).pub")
        try pair.privateKeyPEM.write(to: key, atomically: true, encoding: .utf8)
        try pair.publicKeyPEM.write(to: pub, atomically: true, encoding: .utf8)
        return (key, pub, pair.keyID)
    }

    /// No timed checkpoint unless a test asks for one: on a loaded machine a test can outlast the production 60 s
    /// interval, and an unplanned checkpoint line changes the counts of lines and syncs the tests assert.
    func configuration(
        key: URL? = nil,
        storeBodies: Bool = true,
        rotateBytes: Int = 64 << 20,
        checkpointEvery: Int = 1000,
        checkpointInterval: Double = 86_400
    ) -> AuditConfiguration {
        AuditConfiguration(
            directory: audit,
            signingKeyPath: key,
            storeBodies: storeBodies,
            rotateBytes: rotateBytes,
            checkpointEvery: checkpointEvery,
            checkpointInterval: checkpointInterval
        )
    }

    func file(_ index: Int) -> URL { audit.appendingPathComponent(LogFiles.name(index: index)) }

    func logFiles() throws -> [URL] {
        try LogFiles.list(audit.path).map { audit.appendingPathComponent($0.name) }
    }

    /// Every byte under the audit directory, stored bodies decompressed, for "appears nowhere" checks.
    func everythingStored() throws -> [UInt8] {
        var all: [UInt8] = []
        let enumerator = FileManager.default.enumerator(at: audit, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue
            else { continue }
            let bytes = Array(try Data(contentsOf: url))
            all += bytes
            if url.pathExtension == "gz" { all += try BodyStore.gunzip(bytes, source: url.path, allMembers: true) }
        }
        return all
    }
}

func sampleDecision(
    _ number: Int,
    vendor: String = "scale",
    decision: AuditDecision = .forwarded,
    rule: String? = nil,
    client: AuditClient = AuditClient(ip: "127.0.0.1"),
    findings: [AuditFinding] = []
) -> DecisionRecord {
    DecisionRecord(
        id: "req-\(number)",
        client: client,
        vendor: vendor,
        method: "POST",
        path: "/v1/tasks/\(number)",
        decision: decision,
        reason: decision == .forwarded ? "policy allows" : "policy blocks",
        rule: rule,
        policy: "default@sha256:" + String(repeating: "ab", count: 32),
        findings: findings,
        requestBytes: 100 + number
    )
}

/// Lines of a log file as strings (without newlines), and writing them back. The zero-filled tail of a file still
/// being written (or left by a crash) is not part of it.
func readLines(_ url: URL) throws -> [String] {
    let bytes = Array(try Data(contentsOf: url))
    let text = String(decoding: bytes[..<LogFiles.extent(of: bytes).dataEnd], as: UTF8.self)
    return text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
}

/// What a crash in the middle of a write leaves: `bytes` at the end of the file's records, over its zero-filled
/// tail (or appended, when the file has none).
func writeTorn(_ bytes: [UInt8], into url: URL) throws {
    let contents = Array(try Data(contentsOf: url))
    let handle = try FileHandle(forWritingTo: url)
    try handle.seek(toOffset: UInt64(LogFiles.extent(of: contents).lineEnd))
    try handle.write(contentsOf: Data(bytes))
    try handle.close()
}

func writeLines(_ lines: [String], to url: URL) throws {
    try (lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")).write(to: url, atomically: false, encoding: .utf8)
}

/// What an attacker with write access but without the signing key can do: recompute `prev` and `hash` of every line
/// from `start` on so the hash chain is consistent again.
func resealChain(_ lines: inout [String], from start: Int, previousHash: String? = nil) {
    var prev = previousHash ?? (start == 0 ? ChainLine.genesis : hashOf(lines[start - 1]))
    for index in start..<lines.count {
        let bytes = Array(lines[index].utf8)
        let (canonical, _) = ChainLine.unseal(bytes[...])!
        var object = String(decoding: canonical, as: UTF8.self)
        // canonical ends with "prev":"<64 hex>"}
        let prevRange = object.index(object.endIndex, offsetBy: -66)..<object.index(object.endIndex, offsetBy: -2)
        let oldPrev = String(object[prevRange])
        object.replaceSubrange(prevRange, with: prev)
        // A checkpoint repeats its prev as `head`; a thorough attacker keeps the two equal.
        object = object.replacingOccurrences(of: #""head":"\#(oldPrev)""#, with: #""head":"\#(prev)""#)
        let hash = SHA256.hex(Array(object.utf8))
        lines[index] = String(object.dropLast()) + #","hash":""# + hash + #""}"#
        prev = hash
    }
}

func hashOf(_ line: String) -> String {
    String(line.suffix(66).prefix(64))
}

func expectFailure(
    _ directory: URL,
    publicKeys: [URL],
    kind: AuditVerificationFailure.Kind,
    seq: Int?,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    // A live writer may be mid-append, so the verifier forgives a torn tail while the lock is held. Processes other
    // tests spawn inherit the lock's descriptor between fork and exec and hold it for a moment after the log
    // closed: wait that out (bounded) so the verdict is about the file, not about a neighbour's fork.
    let reader = AuditLogReader(directory: directory)
    let deadline = Date().addingTimeInterval(3)
    while reader.isOpenByWriter() && Date() < deadline { usleep(10_000) }
    do {
        let summary = try AuditVerifier.verify(directory: directory, publicKeys: publicKeys)
        Issue.record("expected \(kind) but the log verified: \(summary)", sourceLocation: sourceLocation)
    } catch {
        #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
        if let seq { #expect(error.seq == seq, "\(error)", sourceLocation: sourceLocation) }
    }
}

/// A small tmpfs mounted for one test; unmounted by `unmount()`.
struct Tmpfs {
    let path: URL

    static let canMount: Bool = {
        guard let probe = try? Tmpfs(sizeKB: 64) else { return false }
        probe.unmount()
        return true
    }()

    init(sizeKB: Int, options: String = "") throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-tmpfs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: path, withIntermediateDirectories: true)
        guard
            run(
                "/bin/mount",
                "-t",
                "tmpfs",
                "-o",
                "size=\(sizeKB)k\(options.isEmpty ? "" : "," + options)",
                "tmpfs",
                path.path
            ) == 0
        else {
            try? FileManager.default.removeItem(at: path)
            throw CocoaError(.fileWriteNoPermission)
        }
    }

    func remount(_ options: String) -> Bool { run("/bin/mount", "-o", "remount,\(options)", path.path) == 0 }

    func unmount() {
        // Lazy, so a test that failed with the log still open does not leave the mount behind.
        _ = run("/bin/umount", "-l", path.path)
        try? FileManager.default.removeItem(at: path)
    }
}

@discardableResult
func run(_ executable: String, _ arguments: String...) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return -1 }
    process.waitUntilExit()
    return process.terminationStatus
}
