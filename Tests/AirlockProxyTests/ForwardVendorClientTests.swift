import AirlockProxy
import Foundation
import Testing

/// Python `requests` and the official `scaleapi` and `labelbox` clients, unchanged: only `HTTPS_PROXY` (with the
/// client's token) and `REQUESTS_CA_BUNDLE` (the interception CA) are set, no base URL. They reach the stand-in vendor
/// through the forward listener, which sees redacted bodies, and read their own names back.
@Suite(.timeLimit(.minutes(2)))
struct ForwardVendorClientTests {
    static func environment(_ airlock: ForwardHarness) -> [String: String] {
        [
            "HTTPS_PROXY": "http://pipeline:\(ForwardHarness.token)@127.0.0.1:\(airlock.forwardPort)",
            "REQUESTS_CA_BUNDLE": airlock.interceptionCAPath,
        ]
    }

    static func run(
        _ script: String,
        _ input: [String: Any],
        _ airlock: ForwardHarness
    ) async throws -> PythonClients.Outcome? {
        if let missing = PythonClients.missing {
            Issue.record(Comment(rawValue: missing))
            return nil
        }
        return try await PythonClients.run(script, input: input, environment: Self.environment(airlock))
    }

    @Test func requestsScaleAPIAndLabelboxClientsWorkUnchangedThroughTheForwardListener() async throws {
        try await ForwardHarness.with { airlock in
            guard
                let plain = try await Self.run(
                    Self.requestsScript,
                    ["body": ["instruction": "Nightingale for Project Falcon", "project": "Tidewater"]],
                    airlock
                )
            else { return }
            #expect(plain.ok, "\(plain.summary)")
            #expect(
                (plain.result?["text"] as? String)?.contains("Nightingale for Project Falcon") == true,
                "\(plain.summary)"
            )

            let scale = try await Self.run(
                Self.scaleScript,
                [
                    "api_key": "live_test_key",
                    "v1_task": [
                        "project": "Nightingale annotation", "instruction": VendorClientTests.instruction,
                        "attachments": [["type": "text", "content": "Bluebird notes"]],
                        "fields": [
                            ["type": "text", "field_id": "summary", "title": "Summary of Skylark", "required": true]
                        ],
                    ] as [String: Any],
                ],
                airlock
            )
            let scaleTask = scale?.result?["v1"] as? [String: Any]
            #expect(
                scale?.ok == true && scaleTask?["project"] as? String == "Nightingale annotation",
                "\(scale?.summary ?? "")"
            )

            let labelbox = try await Self.run(
                Self.labelboxScript,
                ["api_key": "lb_test_key", "dataset": ["name": "Skylark eval set"]],
                airlock
            )
            let dataset = labelbox?.result?["dataset"] as? [String: Any]
            #expect(
                labelbox?.ok == true && dataset?["name"] as? String == "Skylark eval set",
                "\(labelbox?.summary ?? "")"
            )

            let requests = airlock.vendor.requests
            #expect(requests.map(\.uri).contains("/v1/task/textcollection"), "\(requests.map(\.uri))")
            #expect(requests.map(\.uri).contains("/graphql"), "\(requests.map(\.uri))")
            let vendorSaw = requests.map { "\($0.method) \($0.uri)\n\($0.bodyText)" }.joined(separator: "\n")
            VendorClientTests.expectNoLeaks(vendorSaw)
            #expect(airlock.connects("intercepted") >= 3)
        }
    }

    static let requestsScript = #"""
        import json, os, sys, requests
        cfg = json.loads(os.environ["AIRLOCK_TEST_INPUT"])
        try:
            response = requests.post("https://api.scale.com/v1/task/textcollection", json=cfg["body"],
                                     auth=("live_test_key", ""), timeout=20)
            print("@@RESULT@@ " + json.dumps({"ok": response.status_code == 200, "status": response.status_code,
                                              "text": response.text}))
        except Exception as error:
            print("@@RESULT@@ " + json.dumps({"ok": False, "error": type(error).__name__, "message": str(error)}))
        """#

    static let scaleScript = #"""
        import json, os, sys
        cfg = json.loads(os.environ["AIRLOCK_TEST_INPUT"])
        try:
            from scaleapi import ScaleClient
            from scaleapi.tasks import TaskType
            client = ScaleClient(cfg["api_key"])
            task = client.create_task(TaskType.TextCollection, **cfg["v1_task"])
            print("@@RESULT@@ " + json.dumps({"ok": True, "v1": task.as_dict()}, default=str))
        except Exception as error:
            print("@@RESULT@@ " + json.dumps({"ok": False, "error": type(error).__name__, "message": str(error)[:2000]}))
        """#

    static let labelboxScript = #"""
        import json, os, sys
        cfg = json.loads(os.environ["AIRLOCK_TEST_INPUT"])
        try:
            import labelbox
            client = labelbox.Client(api_key=cfg["api_key"])
            dataset = client.create_dataset(iam_integration=None, **cfg["dataset"])
            print("@@RESULT@@ " + json.dumps({"ok": True, "dataset": {"uid": dataset.uid, "name": dataset.name}}))
        except Exception as error:
            print("@@RESULT@@ " + json.dumps({"ok": False, "error": type(error).__name__, "message": str(error)[:2000]}))
        """#
}
