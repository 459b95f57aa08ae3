import AirlockProxy
import AirlockStandIns
import Foundation
import NIOPosix
import Testing

/// The vendors' official Python clients through Airlock to the stand-in vendor, with the example lab policy: nothing
/// planted reaches the vendor, and what the vendor echoes comes back to the client under its original names.
///
/// Needs `scripts/install-deps.sh` (a virtual environment with `scaleapi==2.18.4` and `labelbox==7.17.0`).
@Suite(.timeLimit(.minutes(2)))
struct VendorClientTests {
    // What the lab must not send out. Codenames and the model name are pseudonymised (and restored in answers), the
    // staff email too; the roadmap marker and internal URLs are redacted for good.
    static let codenames = ["Nightingale", "Project Falcon", "Tidewater", "Skylark", "Bluebird"]
    static let roadmap = "Q3 2026"
    static let internalURL = "https://wiki.corp.example.com/nightingale/launch-plan"
    static let callbackURL = "https://hooks.corp.example.com/scale/callback"
    static let staffEmail = "jane.doe@lab.example.com"
    static let secret = "AKIAIOSFODNN7EXAMPLE"
    static var planted: [String] { codenames + [roadmap, internalURL, "corp.example.com", staffEmail, secret] }

    /// Each planted value the vendor received, in any request line, header or body (case-insensitive).
    static func leaks(_ text: String) -> [String] {
        Self.planted.filter { text.lowercased().contains($0.lowercased()) }
    }

    /// Expects no planted value in what the vendor saw; a failure names the leaked values.
    static func expectNoLeaks(_ vendorSaw: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let leaks = Self.leaks(vendorSaw)
        #expect(leaks.isEmpty, "leaked \(leaks):\n\(vendorSaw)", sourceLocation: sourceLocation)
    }

    static let instruction =
        "Summarise the Nightingale eval: Skylark ships Q3 2026 (launch review), plan at \(internalURL), "
        + "owner \(staffEmail). Compare with Project Falcon and Tidewater."

    /// A vendor's official client, and how it is pointed at Airlock and told to trust the lab's CA.
    enum Client {
        /// `scaleapi`: the CA goes in as the client's `verify=` (`input["ca"]`).
        case scale
        /// `labelbox`: the client has no TLS option of its own; requests reads `REQUESTS_CA_BUNDLE`.
        case labelbox
    }

    /// One client run through a fresh `VendorClientAirlock`, and what the stand-in vendor saw of it.
    struct ThroughAirlock {
        var run: PythonClients.Outcome
        /// Taken before Airlock closes.
        var vendorSaw: String
        var requests: [StandInVendor.ReceivedRequest]
        var uploads: [String: [UInt8]]
        /// Taken after Airlock closed: nothing can reach the vendor any more.
        var vendorConnections: Int
        var vendorPlaintextBytes: Int
    }

    /// Runs `client`'s script against a fresh Airlock (`input` plus `base` and, for Scale, `ca`) and closes it, also
    /// when the run throws. `nil`, with an issue recorded, when the Python clients are not installed.
    static func through(
        _ client: Client,
        _ input: [String: Any],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> ThroughAirlock? {
        if let missing = PythonClients.missing {
            Issue.record(Comment(rawValue: missing), sourceLocation: sourceLocation)
            return nil
        }
        let airlock = try await VendorClientAirlock()
        var input = input
        input["base"] = airlock.baseURL
        let run: PythonClients.Outcome
        do {
            switch client {
            case .scale:
                input["ca"] = airlock.caPath
                run = try await PythonClients.run(Self.scaleScript, input: input)
            case .labelbox:
                run = try await PythonClients.run(
                    Self.labelboxScript,
                    input: input,
                    environment: ["REQUESTS_CA_BUNDLE": airlock.caPath]
                )
            }
        } catch {
            await airlock.close()
            throw error
        }
        let vendorSaw = airlock.everythingTheVendorSaw
        let requests = airlock.vendor.requests
        let uploads = airlock.labelbox.uploads
        await airlock.close()
        return ThroughAirlock(
            run: run,
            vendorSaw: vendorSaw,
            requests: requests,
            uploads: uploads,
            vendorConnections: airlock.vendor.connectionCount,
            vendorPlaintextBytes: airlock.vendor.plaintextBytesReceived
        )
    }

    // MARK: Scale

    @Test func scaleTextCollectionTaskGoesOutRedactedAndComesBackRestored() async throws {
        guard
            let through = try await Self.through(
                .scale,
                [
                    "api_key": "live_test_key",
                    "v1_task": [
                        "project": "Nightingale annotation", "instruction": Self.instruction,
                        "callback_url": Self.callbackURL,
                        "attachments": [["type": "text", "content": "Bluebird notes: ask \(Self.staffEmail)"]],
                        "fields": [
                            ["type": "text", "field_id": "summary", "title": "Summary of Skylark", "required": true]
                        ],
                        "metadata": ["codename": "Project Falcon", "owner": Self.staffEmail],
                    ] as [String: Any],
                ]
            )
        else { return }
        let (run, requests) = (through.run, through.requests)

        #expect(run.ok, "\(run.summary)")
        Self.expectNoLeaks(through.vendorSaw)
        #expect(requests.map { "\($0.method) \($0.uri)" }.first == "POST /v1/task/textcollection")
        #expect(requests.count == 2 && requests[1].method == "GET" && requests[1].uri.hasPrefix("/v1/task/"))
        let create = try #require(requests.first)
        #expect(create.header("authorization")?.hasPrefix("Basic ") == true)
        #expect(create.bodyText.contains("CODENAME_") && create.bodyText.contains("MODEL_"), "\(create.bodyText)")
        #expect(create.bodyText.contains("[REDACTED:ROADMAP]") && create.bodyText.contains("[REDACTED:URL]"))

        // The client's view: its own names, in the created task and in the task fetched again.
        for key in ["v1", "v1_fetched"] {
            let task = try #require(run.result?[key] as? [String: Any], "\(key): \(run.summary)")
            #expect(task["type"] as? String == "textcollection")
            #expect(task["project"] as? String == "Nightingale annotation")
            let instruction = try #require(task["instruction"] as? String)
            #expect(
                instruction.contains("Nightingale eval: Skylark ships [REDACTED:ROADMAP]")
                    && instruction.contains("owner \(Self.staffEmail). Compare with Project Falcon and Tidewater."),
                "\(instruction)"
            )
            #expect(!instruction.contains("CODENAME_") && !instruction.contains("EMAIL_"))
            #expect(task["metadata"] as? [String: String] == ["codename": "Project Falcon", "owner": Self.staffEmail])
            let params = try #require(task["params"] as? [String: Any])
            let attachments = try #require(params["attachments"] as? [[String: Any]])
            #expect(attachments.first?["content"] as? String == "Bluebird notes: ask \(Self.staffEmail)")
            // Redacted for good on the way out (an absent field must not pass as "not the lab's URL").
            #expect(task["callback_url"] as? String == "[REDACTED:URL]", "\(task["callback_url"] ?? "absent")")
        }
    }

    @Test func scaleChatTaskThroughTheV2ClientIsRedactedAndRestored() async throws {
        guard
            let through = try await Self.through(
                .scale,
                [
                    "api_key": "live_test_key",
                    "chat": [
                        "project_name": "Skylark RLHF",
                        "template_variables": ["prompt": Self.instruction, "reviewer": Self.staffEmail],
                        "metadata": ["model": "Skylark Mini", "codename": "Nightingale", "contact": Self.staffEmail],
                        "callback_url": Self.callbackURL,
                    ] as [String: Any],
                ]
            )
        else { return }
        let (run, requests) = (through.run, through.requests)

        #expect(run.ok, "\(run.summary)")
        Self.expectNoLeaks(through.vendorSaw)
        #expect(requests.map { "\($0.method) \($0.uri)" } == ["POST /v2/task/chat"])
        let create = try #require(requests.first)
        #expect(create.header("authorization") == "Bearer live_test_key")
        #expect(create.bodyText.contains("MODEL_") && create.bodyText.contains("CODENAME_"), "\(create.bodyText)")

        let task = try #require(run.result?["v2"] as? [String: Any], "\(run.summary)")
        #expect(task["status"] as? String == "pending")
        #expect(
            task["metadata"] as? [String: String]
                == ["model": "Skylark Mini", "codename": "Nightingale", "contact": Self.staffEmail]
        )
    }

    @Test func scaleTaskCarryingASecretIsBlockedAndTheVendorSeesNothing() async throws {
        guard
            let through = try await Self.through(
                .scale,
                [
                    "api_key": "live_test_key",
                    "v1_task": [
                        "project": "Nightingale annotation",
                        "instruction": "Use the key \(Self.secret) to fetch the Nightingale samples.",
                    ],
                ]
            )
        else { return }
        let run = through.run

        #expect(!run.ok && run.status == 403, "\(run.summary)")
        // scaleapi raises with Airlock's error: the code and the rule, never the value.
        let message = run.result?["message"] as? String ?? ""
        #expect(message.contains("blocked_by_policy") && message.contains("'rule': 'secret'"), "\(message)")
        #expect(!run.process.stdout.contains(Self.secret))
        #expect(through.vendorConnections == 0 && through.vendorPlaintextBytes == 0)
    }

    // MARK: Labelbox

    /// Data rows as a lab would create them: text rows named after codenames, with attachments that mention the
    /// roadmap, an internal URL and a staff email.
    static var dataRows: [[String: Any]] {
        [
            [
                "row_data": "Nightingale answers the prompt about Project Falcon.",
                "global_key": "nightingale-eval-0001", "external_id": "Nightingale run 1",
                "attachments": [["type": "RAW_TEXT", "name": "notes", "value": Self.instruction]],
            ],
            [
                "row_data": "Tidewater refuses; Bluebird escalates to \(Self.staffEmail).",
                "global_key": "tidewater-eval-0002", "external_id": "Tidewater run 2",
            ],
        ]
    }

    @Test func labelboxDataRowsGoOutRedactedThroughTheMultipartUploadAndComeBackRestored() async throws {
        guard
            let through = try await Self.through(
                .labelbox,
                [
                    "api_key": "lb_test_key", "fix_chunk_content_type": true,
                    "dataset": ["name": "Skylark eval set", "description": "Rows from the Nightingale runs"],
                    "rows": Self.dataRows,
                ]
            )
        else { return }
        let (run, requests, uploads) = (through.run, through.requests, through.uploads)

        #expect(run.ok, "\(run.summary)")
        Self.expectNoLeaks(through.vendorSaw)
        // Every call the client made, in order, all to POST /graphql: the data-row chunk and the manifest uploads,
        // the import, one poll (the task is IN_PROGRESS at first), the failures (by `wait_till_done` and by the
        // script) and the created rows.
        #expect(requests.allSatisfy { $0.method == "POST" && $0.uri == "/graphql" })
        #expect(
            requests.map(Self.operation) == [
                "createDataset", "uploadFile", "uploadFile", "upsertDataRows", "user", "user.createdTasks",
                "failedDataRowImports", "failedDataRowImports", "successesfulDataRowImports",
            ],
            "\(requests.map(Self.operation))"
        )
        #expect(requests.allSatisfy { $0.header("authorization") == "Bearer lb_test_key" })
        // The data rows travelled as a JSON file part of a multipart upload: redacted there too.
        let chunk = try #require(uploads.values.first { String(decoding: $0, as: UTF8.self).contains("payload") })
        let chunkText = String(decoding: chunk, as: UTF8.self)
        #expect(chunkText.contains("CODENAME_") && chunkText.contains("EMAIL_"), "\(chunkText)")
        #expect(chunkText.contains("[REDACTED:ROADMAP]") && chunkText.contains("[REDACTED:URL]"))

        // The client's view: the dataset and the created rows under their original names.
        let dataset = try #require(run.result?["dataset"] as? [String: Any], "\(run.summary)")
        #expect(dataset["name"] as? String == "Skylark eval set")
        #expect(dataset["description"] as? String == "Rows from the Nightingale runs")
        #expect(run.result?["status"] as? String == "COMPLETE")
        let rows = try #require(run.result?["rows"] as? [[String: Any]], "\(run.summary)")
        let globalKeys = rows.compactMap { $0["global_key"] as? String }
        let byKey = Dictionary(rows.map { (($0["global_key"] as? String ?? "").lowercased(), $0) }) { first, _ in first
        }
        #expect(Set(byKey.keys) == ["nightingale-eval-0001", "tidewater-eval-0002"], "\(rows)")
        // Restored letter for letter: another spelling of a term travels as a sealed token of that spelling.
        #expect(Set(globalKeys) == ["nightingale-eval-0001", "tidewater-eval-0002"])
        #expect(byKey["nightingale-eval-0001"]?["external_id"] as? String == "Nightingale run 1")
        #expect(
            byKey["nightingale-eval-0001"]?["row_data"] as? String
                == "Nightingale answers the prompt about Project Falcon."
        )
        #expect(
            byKey["tidewater-eval-0002"]?["row_data"] as? String
                == "Tidewater refuses; Bluebird escalates to \(Self.staffEmail)."
        )
    }

    @Test func labelboxCreateDataRowReturnsTheRowUnderItsOriginalNames() async throws {
        guard
            let through = try await Self.through(
                .labelbox,
                [
                    "api_key": "lb_test_key", "fix_chunk_content_type": true,
                    "dataset": ["name": "Bluebird eval set"],
                    "row": [
                        "row_data": "Skylark Mini drafts the Bluebird release notes for \(Self.staffEmail).",
                        "external_id": "Bluebird sample 7", "global_key": "sample-0007",
                    ],
                ]
            )
        else { return }
        let (run, operations) = (through.run, through.requests.map(Self.operation))

        #expect(run.ok, "\(run.summary)")
        Self.expectNoLeaks(through.vendorSaw)
        // `create_data_row` is the bulk import of one row, then the row itself, read through `get_data_row`.
        #expect(
            operations == [
                "createDataset", "uploadFile", "uploadFile", "upsertDataRows", "user", "user.createdTasks",
                "failedDataRowImports", "failedDataRowImports", "successesfulDataRowImports", "dataRow",
                "customMetadataOntology",
            ],
            "\(operations)"
        )
        let row = try #require(run.result?["row"] as? [String: Any], "\(run.summary)")
        #expect(row["external_id"] as? String == "Bluebird sample 7")
        #expect(row["global_key"] as? String == "sample-0007")
        #expect(row["row_data"] as? String == "Skylark Mini drafts the Bluebird release notes for \(Self.staffEmail).")
    }

    /// labelbox 7.17.0 labels each data-row chunk's file part `Content-Type: json_import.json` (its
    /// `DescriptorFileCreator` passes the file name and the content type to `upload_data` in swapped positions).
    /// That is no media type, so Airlock judges the part by its content: it is JSON, redacted as JSON. The client as
    /// shipped works through Airlock, nothing planted reaches the vendor, and the rows come back restored.
    @Test func labelboxClientAsShippedNeverLeaksItsDataRows() async throws {
        guard
            let through = try await Self.through(
                .labelbox,
                ["api_key": "lb_test_key", "dataset": ["name": "Skylark eval set"], "rows": Self.dataRows]
            )
        else { return }
        let run = through.run
        let uploads = through.requests.filter { Self.operation($0) == "uploadFile" }

        Self.expectNoLeaks(through.vendorSaw)
        #expect(run.ok, "\(run.summary)")
        #expect(uploads.contains { $0.bodyText.contains("Content-Type: json_import.json") }, "the client's own label")
        #expect(uploads.contains { $0.bodyText.contains("CODENAME_") }, "the chunk was redacted, not passed")
        let rows = try #require(run.result?["rows"] as? [[String: Any]], "\(run.summary)")
        #expect(Set(rows.compactMap { $0["external_id"] as? String }) == ["Nightingale run 1", "Tidewater run 2"])
        #expect(
            Set(rows.compactMap { $0["global_key"] as? String }) == ["nightingale-eval-0001", "tidewater-eval-0002"]
        )
    }

    @Test func labelboxDataRowCarryingASecretIsBlockedAndNoUploadReachesTheVendor() async throws {
        var rows = Self.dataRows
        rows[1]["row_data"] = "Tidewater config: aws_access_key_id = \(Self.secret)"
        guard
            let through = try await Self.through(
                .labelbox,
                [
                    "api_key": "lb_test_key", "fix_chunk_content_type": true,
                    "dataset": ["name": "Skylark eval set"], "rows": rows,
                ]
            )
        else { return }
        let (run, operations, uploads) = (through.run, through.requests.map(Self.operation), through.uploads)

        #expect(!run.ok && run.error == "LabelboxError", "\(run.summary)")
        #expect(run.result?["message"] as? String == "403 Forbidden", "\(run.summary)")
        #expect(!run.process.stdout.contains(Self.secret))
        // The dataset was created before; the blocked upload and everything after it never left.
        #expect(operations == ["createDataset"], "\(operations)")
        #expect(uploads.isEmpty)
        Self.expectNoLeaks(through.vendorSaw)
    }

    /// The stand-in's own answers where the real APIs refuse, and the echo for what neither API claims.
    @Test func theStandInAnswersErrorsAsTheVendorsDo() async throws {
        let certificates = try ThrowawayCertificates.create()
        defer { certificates.remove() }
        let vendor = try await StandInVendor.start(
            group: MultiThreadedEventLoopGroup.singleton,
            serving: certificates
        )
        vendor.apis = [ScaleAPIStandIn(), LabelboxAPIStandIn()]
        let url = "https://127.0.0.1:\(vendor.port)"
        func post(_ path: String, _ body: String, _ headers: [String] = []) async throws -> CurlResult {
            try await Curl.run(
                ["--cacert", certificates.caCertificatePath, "-H", "Content-Type: application/json", "-d", body]
                    + headers.flatMap { ["-H", $0] } + [url + path]
            )
        }
        let noKey = try await post("/v1/task/textcollection", #"{"instruction": "x"}"#)
        let noInstruction = try await post("/v1/task/textcollection", "{}", ["Authorization: Basic a2V5Og=="])
        let noProject = try await post("/v2/task/chat", "{}", ["Authorization: Bearer key"])
        let unknownTask = try await Curl.run(
            ["--cacert", certificates.caCertificatePath, "-u", "key:", url + "/v1/task/0123456789abcdef01234567"]
        )
        let unknownField = try await post(
            "/graphql",
            #"{"query": "query { projects { id } }"}"#,
            ["Authorization: Bearer k"]
        )
        let graphQLNoKey = try await post("/graphql", #"{"query": "query { user { id } }"}"#)
        let unclaimed = try await post("/v1/batches", #"{"name": "b"}"#, ["Authorization: Basic a2V5Og=="])
        await vendor.stop()

        #expect(noKey.status == 401 && noKey.body.contains(#""status_code":401"#), "\(noKey.body)")
        #expect(noInstruction.status == 400 && noInstruction.body.contains("instruction"))
        #expect(noProject.status == 400)
        #expect(unknownTask.status == 404)
        #expect(unknownField.status == 400 && unknownField.body.contains("GRAPHQL_VALIDATION_FAILED"))
        #expect(graphQLNoKey.status == 401 && graphQLNoKey.body.contains("AUTHENTICATION_ERROR"))
        #expect(unclaimed.status == 200 && echoed(unclaimed.body)?["path"] as? String == "/v1/batches")
    }

    /// The GraphQL root field a recorded request asked for (`uploadFile` for multipart uploads).
    static func operation(_ request: StandInVendor.ReceivedRequest) -> String {
        if request.header("content-type")?.hasPrefix("multipart/form-data") == true {
            return request.bodyText.contains("uploadFile(") ? "uploadFile" : "multipart?"
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any],
            let query = object["query"] as? String, let root = LabelboxAPIStandIn.rootField(query)
        else { return "?" }
        return root == "user" && query.contains("createdTasks") ? "user.createdTasks" : root
    }

    // MARK: Client scripts

    /// Creates a v1 textcollection task (and fetches it again) and/or a v2 chat task, per `$AIRLOCK_TEST_INPUT`.
    static let scaleScript = #"""
        import json, os, sys
        cfg = json.loads(os.environ["AIRLOCK_TEST_INPUT"])

        def emit(result):
            print("@@RESULT@@ " + json.dumps(result, default=str))
            sys.exit(0)

        try:
            from scaleapi import ScaleClient
            from scaleapi.tasks import TaskType
            from scaleapi.api_client.v2 import rest
            from scaleapi.api_client.v2.models.create_chat_task_request import CreateChatTaskRequest

            client = ScaleClient(cfg["api_key"], api_instance_url=cfg["base"] + "/scale/v1", verify=cfg["ca"])
            out = {"ok": True}
            if "v1_task" in cfg:
                task = client.create_task(TaskType.TextCollection, **cfg["v1_task"])
                out["v1"] = task.as_dict()
                out["v1_fetched"] = client.get_task(task.id).as_dict()
            if "chat" in cfg:
                configuration = client.v2.api_client.configuration
                configuration.host = cfg["base"] + "/scale"
                configuration.ssl_ca_cert = cfg["ca"]
                # The REST client reads the TLS settings when it is made: make it again with the lab's CA.
                client.v2.api_client.rest_client = rest.RESTClientObject(configuration)
                task = client.v2.create_chat_task(CreateChatTaskRequest(**cfg["chat"]))
                out["v2"] = json.loads(task.to_json())
            emit(out)
        except Exception as error:
            emit({"ok": False, "error": type(error).__name__, "message": str(error)[:2000],
                  "status": getattr(error, "status_code", None) or getattr(error, "code", None)})
        """#

    /// Creates a dataset and its data rows, waits for the import task and reads the created rows back.
    static let labelboxScript = #"""
        import json, os, sys
        cfg = json.loads(os.environ["AIRLOCK_TEST_INPUT"])

        def emit(result):
            print("@@RESULT@@ " + json.dumps(result, default=str))
            sys.exit(0)

        try:
            import labelbox
            client = labelbox.Client(api_key=cfg["api_key"], endpoint=cfg["base"] + "/labelbox/graphql")
            if cfg.get("fix_chunk_content_type"):
                # labelbox 7.17.0's DescriptorFileCreator calls upload_data(chunk, "application/json",
                # "json_import.json") against the signature (content, filename, content_type): the chunk's part goes
                # out as Content-Type json_import.json. Send the same bytes labelled as the manifest's part is.
                upload_data = client.upload_data
                def labelled_upload_data(content, filename=None, content_type=None, sign=False):
                    if filename == "application/json" and content_type == "json_import.json":
                        filename, content_type = content_type, filename
                    return upload_data(content, filename=filename, content_type=content_type, sign=sign)
                client.upload_data = labelled_upload_data
            dataset = client.create_dataset(iam_integration=None, **cfg["dataset"])
            out = {"ok": True, "dataset": {"uid": dataset.uid, "name": dataset.name,
                                           "description": dataset.description}}
            if "rows" in cfg:
                task = dataset.create_data_rows(cfg["rows"])
                task.wait_till_done(timeout_seconds=20)
                out["status"] = task.status
                out["errors"] = task.errors
                out["rows"] = task.result
            if "row" in cfg:
                row = dataset.create_data_row(**cfg["row"])
                out["row"] = {"uid": row.uid, "external_id": row.external_id, "global_key": row.global_key,
                              "row_data": row.row_data}
            emit(out)
        except Exception as error:
            emit({"ok": False, "error": type(error).__name__, "message": str(error)[:2000],
                  "status": getattr(error, "status_code", None) or getattr(error, "code", None)})
        """#
}
