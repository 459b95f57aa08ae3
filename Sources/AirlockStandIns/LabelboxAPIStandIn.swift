import Foundation
import Synchronization

/// Labelbox's GraphQL API (`POST /graphql`, Bearer key) as the official `labelbox` Python client (7.17) uses it to
/// create a dataset and bulk-create data rows:
///
/// 1. `createDataset(data: {name, description})` → the dataset, name and description echoed.
/// 2. `uploadFile` as a GraphQL multipart request (`operations`, `map`, file part `1`), once per JSON chunk of
///    data rows and once for the manifest that lists the chunks' URLs → `{url, filename}`; the stand-in keeps each
///    file under its URL.
/// 3. `upsertDataRows(data: {manifestUri})` → an import task (`IN_PROGRESS`); the data rows are read from the
///    manifest's chunks as received.
/// 4. `user` and `user(where: {id}) { createdTasks(where: {id}) }` → the caller and the task, `COMPLETE` from the
///    first poll on.
/// 5. `failedDataRowImports` / `successesfulDataRowImports` (sic) → no failures, and the created rows with their
///    `externalId`, `globalKey` and `rowData` echoed.
///
/// Also `dataset(where: {id})`, `dataRow(where: {id})` (`create_data_row`, `get_data_row`) and
/// `customMetadataOntology`, which the client reads to parse a data row's metadata. Any other root field is a GraphQL validation error
/// (HTTP 400), as the real server answers an unknown field. Other paths are left to the echo.
public final class LabelboxAPIStandIn: StandInAPI {
    struct DataRow: Sendable {
        var id: String
        var externalID: String?
        var globalKey: String?
        /// As submitted: a string, or a JSON object serialised to a string.
        var rowData: String
        var datasetID: String
    }

    struct Dataset: Sendable {
        var id: String
        var name: String
        var description: String?
        var createdAt: String
        var rowCount = 0
    }

    struct ImportTask: Sendable {
        var id: String
        var createdAt: String
        var rows: [DataRow]
    }

    private struct State: Sendable {
        var datasets: [String: Dataset] = [:]
        var uploads: [String: [UInt8]] = [:]
        var tasks: [String: ImportTask] = [:]
        var rows: [String: DataRow] = [:]
    }

    private let state = Mutex(State())
    static let userID = "cl0user0000000000000000001"

    public init() {}

    /// The files received through `uploadFile`, keyed by the URL the stand-in answered with.
    public var uploads: [String: [UInt8]] { self.state.withLock { $0.uploads } }

    public func respond(to request: StandInVendor.ReceivedRequest) -> StandInResponse? {
        let path = request.uri.split(separator: "?", maxSplits: 1).first ?? ""
        guard request.method == "POST", path == "/graphql" else { return nil }
        guard request.header("authorization")?.hasPrefix("Bearer ") == true else {
            return Self.errors("Not authenticated", code: "AUTHENTICATION_ERROR", status: 401)
        }
        let contentType = request.header("content-type") ?? ""
        if contentType.lowercased().hasPrefix("multipart/form-data") {
            return self.upload(request, contentType: contentType)
        }
        guard let body = StandInJSON.object(request.body), let query = body["query"] as? String else {
            return Self.errors("POST body missing, invalid Content-Type, or JSON object has no keys.", status: 400)
        }
        let variables = body["variables"] as? [String: Any] ?? [:]
        switch Self.rootField(query) {
        case "createDataset":
            return self.createDataset(variables)
        case "dataset":
            return self.dataset(variables)
        case "upsertDataRows":
            return self.upsertDataRows(variables)
        case "user" where query.contains("createdTasks"):
            return self.createdTasks(variables)
        case "user":
            return .json(["data": ["user": Self.user()]])
        case "failedDataRowImports":
            return .json(["data": ["failedDataRowImports": ["after": NSNull(), "total": 0, "results": [] as [Any]]]])
        case "successesfulDataRowImports":
            return self.successfulImports(variables)
        case "dataRow":
            return self.dataRow(variables)
        case "customMetadataOntology":
            // The organization has no custom metadata: only Labelbox's reserved `tag` field.
            let tag: [String: Any] = [
                "id": "cko8s9r5v0001h2dk9elqdidh", "name": "tag", "kind": "CustomMetadataString", "reserved": true,
                "options": [] as [Any],
            ]
            return .json(["data": ["customMetadataOntology": [tag]]])
        case let field:
            return Self.errors(
                "Cannot query field \"\(field ?? "")\" on type \"Query\".",
                code: "GRAPHQL_VALIDATION_FAILED",
                status: 400
            )
        }
    }

    // MARK: Requests

    private func createDataset(_ variables: [String: Any]) -> StandInResponse {
        guard let name = variables["name"] as? String else {
            return Self.errors("Variable \"$name\" of required type \"String!\" was not provided.", status: 400)
        }
        let dataset = Dataset(
            id: Self.cuid(),
            name: name,
            description: variables["description"] as? String,
            createdAt: StandInJSON.timestamp()
        )
        self.state.withLock { $0.datasets[dataset.id] = dataset }
        return .json(["data": ["createDataset": Self.json(dataset)]])
    }

    private func dataset(_ variables: [String: Any]) -> StandInResponse {
        let id = variables.values.first as? String ?? ""
        guard let dataset = self.state.withLock({ $0.datasets[id] }) else {
            return Self.errors("Dataset not found", code: "RESOURCE_NOT_FOUND")
        }
        return .json(["data": ["dataset": Self.json(dataset)]])
    }

    /// A GraphQL multipart request (github.com/jaydenseric/graphql-multipart-request-spec): `operations` names the
    /// `uploadFile` mutation, `map` points the file part at `variables.file`.
    private func upload(_ request: StandInVendor.ReceivedRequest, contentType: String) -> StandInResponse {
        guard let boundary = Self.parameter("boundary", in: contentType),
            let parts = Self.parts(request.body, boundary: boundary),
            let operations = parts.first(where: { $0.name == "operations" }).flatMap({ StandInJSON.object($0.body) }),
            let query = operations["query"] as? String, Self.rootField(query) == "uploadFile",
            let map = parts.first(where: { $0.name == "map" }).flatMap({ StandInJSON.object($0.body) }),
            let fileName = map.first(where: { ($0.value as? [String])?.contains("variables.file") == true })?.key,
            let file = parts.first(where: { $0.name == fileName })
        else {
            return Self.errors("Invalid multipart upload: expected operations, map and one file part", status: 400)
        }
        let filename = file.filename ?? "upload"
        let safeName = String(filename.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" ? $0 : "-" })
        let url = "https://storage.labelbox.com/\(Self.userID)/\(UUID().uuidString.lowercased())-\(safeName)"
        self.state.withLock { $0.uploads[url] = file.body }
        return .json(["data": ["uploadFile": ["url": url, "filename": filename]]])
    }

    private func upsertDataRows(_ variables: [String: Any]) -> StandInResponse {
        guard let manifestURI = variables["manifestUri"] as? String else {
            return Self.errors("Variable \"$manifestUri\" of required type \"String!\" was not provided.", status: 400)
        }
        return self.state.withLock { state -> StandInResponse in
            guard let manifestBytes = state.uploads[manifestURI],
                let manifest = StandInJSON.object(manifestBytes),
                let chunkURIs = manifest["chunk_uris"] as? [String]
            else { return Self.errors("Manifest \(manifestURI) not found", code: "RESOURCE_NOT_FOUND") }
            var rows: [DataRow] = []
            for uri in chunkURIs {
                guard let chunk = state.uploads[uri],
                    let items = (try? JSONSerialization.jsonObject(with: Data(chunk))) as? [[String: Any]]
                else { return Self.errors("Chunk \(uri) is not a JSON array", code: "MALFORMED_REQUEST") }
                for item in items {
                    let payload = item["payload"] as? [String: Any] ?? [:]
                    guard let datasetID = payload["dataset_id"] as? String, state.datasets[datasetID] != nil else {
                        return Self.errors("Dataset not found", code: "RESOURCE_NOT_FOUND")
                    }
                    let rowData: String
                    if let text = payload["row_data"] as? String {
                        rowData = text
                    } else if let object = payload["row_data"],
                        let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                    {
                        rowData = String(decoding: data, as: UTF8.self)
                    } else {
                        rowData = ""
                    }
                    rows.append(
                        DataRow(
                            id: Self.cuid(),
                            externalID: payload["external_id"] as? String,
                            globalKey: payload["global_key"] as? String,
                            rowData: rowData,
                            datasetID: datasetID
                        )
                    )
                }
            }
            let task = ImportTask(id: Self.cuid(), createdAt: StandInJSON.timestamp(), rows: rows)
            state.tasks[task.id] = task
            for row in rows {
                state.rows[row.id] = row
                state.datasets[row.datasetID]?.rowCount += 1
            }
            return .json(["data": ["upsertDataRows": Self.json(task, complete: false)]])
        }
    }

    /// Polling: the task is complete from the first poll on.
    private func createdTasks(_ variables: [String: Any]) -> StandInResponse {
        let ids = variables.values.compactMap { $0 as? String }
        let tasks = self.state.withLock { state in ids.compactMap { state.tasks[$0] } }
        return .json(["data": ["user": ["createdTasks": tasks.map { Self.json($0, complete: true) }]]])
    }

    private func successfulImports(_ variables: [String: Any]) -> StandInResponse {
        let id = variables["taskId"] as? String ?? ""
        guard let task = self.state.withLock({ $0.tasks[id] }) else {
            return Self.errors("Task not found", code: "RESOURCE_NOT_FOUND")
        }
        let nodes: [[String: Any]] = task.rows.map { row in
            [
                "id": row.id, "externalId": row.externalID ?? NSNull(), "globalKey": row.globalKey ?? NSNull(),
                "rowData": row.rowData,
            ]
        }
        return .json([
            "data": ["successesfulDataRowImports": ["nodes": nodes, "after": NSNull(), "total": nodes.count]]
        ])
    }

    private func dataRow(_ variables: [String: Any]) -> StandInResponse {
        let id = variables.values.first as? String ?? ""
        guard let row = self.state.withLock({ $0.rows[id] }) else {
            return Self.errors("Data row not found", code: "RESOURCE_NOT_FOUND")
        }
        let now = StandInJSON.timestamp()
        return .json([
            "data": [
                "dataRow": [
                    "id": row.id, "externalId": row.externalID ?? NSNull(), "globalKey": row.globalKey ?? NSNull(),
                    "rowData": row.rowData, "createdAt": now, "updatedAt": now, "mediaAttributes": [String: Any](),
                    "customMetadata": [] as [Any], "metadataFields": [] as [Any],
                ] as [String: Any]
            ]
        ])
    }

    // MARK: Shapes

    private static func errors(
        _ message: String,
        code: String = "MALFORMED_REQUEST",
        status: Int = 200
    )
        -> StandInResponse
    {
        .json(["data": NSNull(), "errors": [["message": message, "extensions": ["code": code]]]], status: status)
    }

    private static func json(_ dataset: Dataset) -> [String: Any] {
        [
            "id": dataset.id, "name": dataset.name, "description": dataset.description ?? NSNull(),
            "createdAt": dataset.createdAt, "updatedAt": dataset.createdAt, "rowCount": dataset.rowCount,
        ]
    }

    private static func json(_ task: ImportTask, complete: Bool) -> [String: Any] {
        [
            "id": task.id, "createdAt": task.createdAt, "updatedAt": StandInJSON.timestamp(), "name": "",
            "status": complete ? "COMPLETE" : "IN_PROGRESS", "completionPercentage": complete ? 1.0 : 0.0,
            "result": NSNull(), "errors": NSNull(), "type": "adv-upsert-data-rows", "metadata": [String: Any](),
        ]
    }

    private static func user() -> [String: Any] {
        let now = StandInJSON.timestamp()
        return [
            "id": Self.userID, "email": "api-user@labelbox.example", "name": "API user", "nickname": "api-user",
            "picture": "", "isExternalUser": false, "isViewer": false, "createdAt": now, "updatedAt": now,
            "lastLoginAt": now,
        ]
    }

    /// Labelbox ids are cuids: `c` and 24 lowercase alphanumerics.
    private static func cuid() -> String { "c" + StandInJSON.hexID(24) }

    /// The name of the operation's first root field: the identifier after the first `{`.
    public static func rootField(_ query: String) -> String? {
        guard let brace = query.firstIndex(of: "{") else { return nil }
        let rest = query[query.index(after: brace)...].drop { $0.isWhitespace }
        let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        return name.isEmpty ? nil : String(name)
    }

    // MARK: Multipart

    struct Part {
        var name: String?
        var filename: String?
        var body: [UInt8]
    }

    /// Splits a multipart/form-data body; `nil` when it is not closed by the final boundary.
    static func parts(_ body: [UInt8], boundary: String) -> [Part]? {
        let delimiter = Array("--\(boundary)".utf8)
        let separator = Array("\r\n--\(boundary)".utf8)
        guard body.starts(with: delimiter) else { return nil }
        var parts: [Part] = []
        var at = delimiter.count
        while true {
            if body[at...].starts(with: Array("--".utf8)) { return parts }
            guard body[at...].starts(with: [0x0D, 0x0A]) else { return nil }
            at += 2
            guard let headerEnd = Self.find([0x0D, 0x0A, 0x0D, 0x0A], in: body, from: at),
                let next = Self.find(separator, in: body, from: headerEnd + 2)
            else { return nil }
            let headers = String(decoding: body[at..<headerEnd], as: UTF8.self)
            var part = Part(body: Array(body[min(headerEnd + 4, next)..<next]))
            for line in headers.components(separatedBy: "\r\n")
            where line.lowercased().hasPrefix("content-disposition:") {
                part.name = Self.parameter("name", in: line)
                part.filename = Self.parameter("filename", in: line)
            }
            parts.append(part)
            at = next + separator.count
        }
    }

    /// The value of the `name` parameter (`boundary`, `name`, `filename`) of a `Content-Type` or
    /// `Content-Disposition` value, quotes removed.
    private static func parameter(_ name: String, in line: String) -> String? {
        for piece in line.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == name {
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard needle.count <= haystack.count, start <= haystack.count - needle.count else { return nil }
        for index in start...(haystack.count - needle.count)
        where haystack[index] == needle[0] && haystack[index..<(index + needle.count)].elementsEqual(needle) {
            return index
        }
        return nil
    }
}
