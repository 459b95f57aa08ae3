import Foundation

/// One HTTP exchange with the console through the real `curl`: status, headers (lowercased names) and body.
struct ConsoleResponse {
    var status: Int
    var headers: [(String, String)]
    var body: String

    func header(_ name: String) -> String? { headers.first { $0.0 == name.lowercased() }?.1 }
    func headers(_ name: String) -> [String] { headers.filter { $0.0 == name.lowercased() }.map(\.1) }
}

enum ConsoleHTTP {
    /// `curl -sS -i` with `arguments`; waits off the Swift concurrency pool (the console runs on it).
    static func run(_ arguments: [String]) async throws -> ConsoleResponse {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try runBlocking(arguments) })
            }
        }
    }

    private static func runBlocking(_ arguments: [String]) throws -> ConsoleResponse {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-sS", "-i", "--max-time", "20"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else {
            return ConsoleResponse(status: -1, headers: [], body: text)
        }
        let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? -1
        let headers = lines.dropFirst().compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (
                line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            )
        }
        return ConsoleResponse(status: status, headers: headers, body: String(text[split.upperBound...]))
    }

    static func bearer(_ fixture: ReviewFixture, _ path: String) async throws -> ConsoleResponse {
        try await run(["-H", "Authorization: Bearer \(ReviewFixture.token)", fixture.base + path])
    }
}
