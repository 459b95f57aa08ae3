import Foundation
import Testing

/// The console in headless Chromium through Selenium (`Tests/Browser/review_console.py`, run with the Python of
/// `.build/python-clients`): sign in, filter, page, open a record and find its marks, export CSV, be refused without
/// a session or with a forged cookie, and see planted markup stay inert. With `AIRLOCK_REVIEW_SCREENSHOTS=DIR` it
/// also saves the overview and a record page (the README's screenshots).
@Suite("Review console in a real browser")
struct ReviewBrowserTests {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var interpreter: String {
        if let configured = ProcessInfo.processInfo.environment["AIRLOCK_PYTHON_CLIENTS"], !configured.isEmpty {
            return configured.hasSuffix("python3") ? configured : configured + "/bin/python3"
        }
        return packageRoot.appendingPathComponent(".build/python-clients/bin/python3").path
    }

    @Test(.timeLimit(.minutes(2))) func signInFilterPageOpenExportAndStayInert() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver") else {
            Issue.record("chromium-driver is not installed: run scripts/install-deps.sh")
            return
        }
        let fixture = try await ReviewFixture.started()
        var input: [String: Any] = ["base": fixture.base, "token": ReviewFixture.token]
        if let directory = ProcessInfo.processInfo.environment["AIRLOCK_REVIEW_SCREENSHOTS"] {
            input["screenshots"] = directory
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.interpreter)
        process.arguments = [Self.packageRoot.appendingPathComponent("Tests/Browser/review_console.py").path]
        process.environment = ProcessInfo.processInfo.environment.merging([
            "AIRLOCK_TEST_INPUT": String(decoding: try JSONSerialization.data(withJSONObject: input), as: UTF8.self)
        ]) { $1 }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let (stdout, stderr) = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let stderrData = errors.fileHandleForReading.readDataToEndOfFile()
                let stdoutData = output.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(
                    returning: (
                        String(decoding: stdoutData, as: UTF8.self), String(decoding: stderrData, as: UTF8.self)
                    )
                )
            }
        }
        let line = stdout.split(separator: "\n").last { $0.hasPrefix("@@RESULT@@ ") }
        let result = try line.flatMap {
            try JSONSerialization.jsonObject(with: Data($0.dropFirst("@@RESULT@@ ".count).utf8)) as? [String: Any]
        }
        #expect(result?["ok"] as? Bool == true, "\(result?["error"] ?? stdout)\n\(stderr.suffix(2000))")
        #expect((result?["steps"] as? [String])?.count ?? 0 >= 18, "\(result?["steps"] ?? "")")
    }
}
