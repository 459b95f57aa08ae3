import AirlockPolicy
import AirlockRedaction
import Foundation
import FuzzSupport

/// The policy loader on YAML text: the input is written as `policy.yaml` in a private directory and loaded. Loading
/// is deterministic (the same policy and content hash twice); a policy that loads either compiles into a redactor
/// or is refused with a compile error, and a redactor built from it redacts a sample without failing.

/// In memory (tmpfs) where there is one: a disk's writeback costs more than the load.
let directory =
    (FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : FileManager.default.temporaryDirectory.path)
    + "/airlock-fuzz-policy-\(ProcessInfo.processInfo.processIdentifier)"
let path = directory + "/policy.yaml"
let created: Void = {
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: directory) }
}()
let sample = Array(#"{"text":"Nightingale ana@lab.example.com Q3 2026 881234","internal_notes":"x"}"#.utf8)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    _ = created
    let input = FuzzCheck.bytes(start, count)
    // A plain write: FileManager.createFile writes atomically with an fsync, which costs more than the load.
    FuzzCheck.require(writeFile(input), "cannot write \(path)")
    let first: Policy
    do {
        first = try PolicyLoader.load(path: path)
    } catch {
        FuzzCheck.require(!error.diagnostics.isEmpty, "a refused policy without a diagnostic")
        return 0
    }
    let second = try? PolicyLoader.load(path: path)
    FuzzCheck.require(second?.contentHash == first.contentHash, "loading the same text twice differs")
    FuzzCheck.require(second?.termCount == first.termCount, "loading the same text twice differs in terms")
    // Compiling costs milliseconds, loading microseconds: one small input in 32 (by a checksum of its bytes, so a
    // crash reproduces) also compiles, so the fuzzer keeps its pace on the loader.
    guard count <= 4096, input.reduce(0, { $0 &+ UInt32($1) }) % 32 == 0 else { return 0 }
    do {
        let redactor = try Redactor(policy: first, keys: FuzzPolicy.keys)
        _ = redactor.redact(body: sample, contentType: "application/json", contentEncoding: nil, vendor: "fuzz")
    } catch {
        FuzzCheck.require(error.kind == .compile, "a loaded policy fails to build for \(error.kind)")
    }
    return 0
}

private func writeFile(_ bytes: [UInt8]) -> Bool {
    guard let file = fopen(path, "wb") else { return false }
    let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
    return fclose(file) == 0 && written == bytes.count
}
