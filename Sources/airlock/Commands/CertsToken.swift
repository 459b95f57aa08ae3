import AirlockSupport
import ArgumentParser
import Foundation

/// `airlock certs token [--hash]`: a lab client's `Airlock-Client-Token` and the hash the configuration keeps.
struct CertsToken: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Make a client token for clients[].token_sha256, or (--hash) hash one read from stdin.",
        discussion: """
            Without --hash: prints a new random token (32 bytes, hex) for the client to send as Airlock-Client-Token,
            and its SHA-256 for the client's token_sha256. Only the hash goes into the configuration.
            With --hash: reads a token from stdin (one trailing newline dropped) and prints its SHA-256, the same as
            printf %s "$TOKEN" | sha256sum.
            Exit codes: 0 printed; 1 no token on stdin; 64 bad usage.
            """
    )

    @Flag(name: .long, help: "Hash the token read from stdin instead of making one.")
    var hash: Bool = false

    func run() throws {
        if self.hash {
            var input = FileHandle.standardInput.readDataToEndOfFile()
            if input.last == UInt8(ascii: "\n") { input.removeLast() }
            if input.last == UInt8(ascii: "\r") { input.removeLast() }
            guard !input.isEmpty else {
                FileHandle.standardError.write(Data("airlock: no token on stdin\n".utf8))
                throw ExitCode(1)
            }
            print(SHA256.hex(Array(input)))
            return
        }
        var generator = SystemRandomNumberGenerator()
        let token = Hex.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
        print("token:        \(token)")
        print("token_sha256: \(SHA256.hex(token))")
    }
}
