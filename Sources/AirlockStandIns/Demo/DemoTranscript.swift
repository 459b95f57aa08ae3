import AirlockAudit
import AirlockProxy
import Foundation
import NIOCore

/// What the built-in demo prints: where everything runs, then the demo task as the lab sent it, as the vendor
/// received it, as the lab got it back, and the decision the audit log recorded (rule ids and counts, never values).
struct DemoTranscript {
    var setup: AirlockDemo.Setup
    var server: AirlockProxyServer

    struct DemoFailure: Error, CustomStringConvertible {
        var status: Int
        var body: String
        var description: String { "the demo request failed with HTTP \(self.status): \(self.body)" }
    }

    /// Prints the set-up, sends the demo task through Airlock and prints what happened to it.
    /// - Throws: ``DemoFailure`` when the task was not answered 200 (after printing everything).
    func sendTheDemoTask(group: any EventLoopGroup, once: Bool) async throws {
        let port = self.server.listenAddress?.port ?? 0
        self.printSetup(port: port)
        print("")
        print("What the lab sent:  POST /scale/v1/task/textcollection")
        print("  " + AirlockDemo.demoTask)
        let response = try await HTTPSProbe.send(
            group: group,
            host: "127.0.0.1",
            port: port,
            caPath: self.setup.certificates.caCertificatePath,
            method: "POST",
            path: "/scale/v1/task/textcollection",
            headers: [
                ("Content-Type", "application/json"), ("X-Forwarded-For", "10.1.2.3"),
                ("Via", "1.1 lab-gateway.corp.example.com"),
            ],
            body: Array(AirlockDemo.demoTask.utf8)
        )
        self.printReceived()
        print("")
        print(
            "What the lab got back: HTTP \(response.status), \(response.body.count) bytes "
                + "(the vendor's echo, with pseudonyms restored)"
        )
        print("  " + response.bodyText.prefix(600))
        self.printAuditRecord()
        if !once { self.printTryIt(port: port) }
        fflush(nil)
        if response.status != 200 {
            throw DemoFailure(status: response.status, body: response.bodyText)
        }
    }

    private func printSetup(port: Int) {
        let policy: String
        switch self.setup.policy {
        case .checkout(let path): policy = path
        case .embedded: policy = "Policies/demo.yaml (the copy built into this executable)"
        }
        print("Airlock demo")
        print("  stand-in vendor  https://127.0.0.1:\(self.setup.vendor.port)  (throwaway certificate)")
        print("  Airlock          https://127.0.0.1:\(port)/scale/...  -> vendor \"scale\"")
        print("  admin            http://127.0.0.1:\(self.server.adminAddress?.port ?? 0)/metrics")
        print("  policy           \(policy)")
        print("  audit log        \(self.setup.auditDirectory)  (kept after the demo stops)")
        print("                   airlock log show --dir \(self.setup.auditDirectory)")
    }

    private func printReceived() {
        print("")
        guard let received = self.setup.vendor.requests.last else {
            print("The vendor received nothing.")
            return
        }
        print("What the vendor received:  \(received.method) \(received.uri)")
        for (name, value) in received.headers {
            print("  \(name): \(value)")
        }
        print("  " + received.bodyText)
    }

    /// Shows the decision the audit log holds for the demo request: rule ids and counts, never the values.
    private func printAuditRecord() {
        print("")
        let directory = URL(fileURLWithPath: self.setup.auditDirectory)
        guard let entries = try? AuditLogReader(directory: directory).entries(),
            let decision = entries.last(where: { $0.event == .decision })
        else {
            print("The audit log holds no decision.")
            return
        }
        print("What the audit log recorded (seq \(decision.seq), hash-chained):")
        print("  decision \(decision.decision?.rawValue ?? "?")  policy \(decision.policy ?? "?")")
        for finding in decision.findings ?? [] {
            print(
                "  finding  \(finding.id) ×\(finding.count) (\(finding.action)) at \(finding.paths.joined(separator: ", "))"
            )
        }
        print("  forwarded \(decision.forwardedBytes ?? 0) bytes, sha256 \(decision.forwardedSHA256 ?? "-")")
    }

    private func printTryIt(port: Int) {
        print("")
        print("Try it yourself (Ctrl-C to stop):")
        print("  curl --cacert \(self.setup.certificates.caCertificatePath) -H 'Content-Type: application/json' \\")
        print("    -d '{\"project\": \"Nightingale\", \"contact\": \"jane.doe@lab.example.com\"}' \\")
        print("    https://127.0.0.1:\(port)/scale/v1/task/textcollection")
    }
}
