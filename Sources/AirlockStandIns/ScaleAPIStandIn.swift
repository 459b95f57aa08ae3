import Foundation
import Synchronization

/// Scale AI's task API as the official `scaleapi` Python client (2.18) uses it, paths as the vendor receives them
/// (after Airlock strips its route prefix):
///
/// - `POST /v1/task/<type>` (v1 `create_task`, HTTP Basic with the key as user): the created task, with the
///   submitted `instruction`, `callback_url`, `metadata`, `project`, `batch`, `unique_id` at the top level and every
///   other field under `params`, as Scale's task object has them.
/// - `GET /v1/task/<task_id>` (`get_task`): that task again, or 404.
/// - `POST /v2/task/chat` (`client.v2.create_chat_task`, Bearer key): the v2 `Task` object (`task_id`, `project`,
///   `status`, `created_at`, `metadata`, `threads`).
///
/// Anything else under `/v1/` or `/v2/` is left to the stand-in's echo. Errors are Scale's
/// `{"status_code": N, "error": "..."}`.
public final class ScaleAPIStandIn: StandInAPI {
    private let tasks = Mutex<[String: [UInt8]]>([:])

    public init() {}

    /// The tasks created so far, as JSON objects keyed by task id.
    public var createdTasks: [String: [UInt8]] { self.tasks.withLock { $0 } }

    public func respond(to request: StandInVendor.ReceivedRequest) -> StandInResponse? {
        let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.uri
        let segments = path.split(separator: "/").map(String.init)
        switch (request.method, segments.count, segments.first) {
        case ("POST", 3, "v1") where segments[1] == "task":
            return self.authorized(request) ?? self.createV1Task(type: segments[2], request)
        case ("GET", 3, "v1") where segments[1] == "task":
            return self.authorized(request) ?? self.stored(segments[2])
        case ("POST", 3, "v2") where segments[1] == "task" && segments[2] == "chat":
            return self.authorized(request) ?? self.createChatTask(request)
        default:
            return nil
        }
    }

    private static func error(_ status: Int, _ message: String) -> StandInResponse {
        .json(["status_code": status, "error": message], status: status)
    }

    /// Scale answers 401 before looking at the body when no key came with the request.
    private func authorized(_ request: StandInVendor.ReceivedRequest) -> StandInResponse? {
        let authorization = request.header("authorization") ?? ""
        if authorization.hasPrefix("Basic ") || authorization.hasPrefix("Bearer ") { return nil }
        return Self.error(401, "Please provide a valid API Key.")
    }

    private func createV1Task(type: String, _ request: StandInVendor.ReceivedRequest) -> StandInResponse {
        guard let body = StandInJSON.object(request.body) else {
            return Self.error(400, "Request body must be a JSON object.")
        }
        guard body["instruction"] is String else {
            return Self.error(400, "Missing required parameter: instruction")
        }
        let topLevel: Set<String> = [
            "instruction", "callback_url", "metadata", "project", "batch", "unique_id", "priority", "tags",
        ]
        let now = StandInJSON.timestamp()
        var task: [String: Any] = [
            "task_id": StandInJSON.hexID(24), "type": type, "status": "pending", "created_at": now,
            "updated_at": now, "is_test": false, "urgency": "standard", "processed_attachments": [] as [Any],
            "metadata": [String: Any](),
        ]
        var params: [String: Any] = [:]
        for (key, value) in body {
            if topLevel.contains(key) { task[key] = value } else { params[key] = value }
        }
        task["params"] = params
        return self.store(task)
    }

    private func createChatTask(_ request: StandInVendor.ReceivedRequest) -> StandInResponse {
        guard let body = StandInJSON.object(request.body) else {
            return Self.error(400, "Request body must be a JSON object.")
        }
        guard body["project_id"] is String || body["project_name"] is String else {
            return Self.error(400, "One of project_id or project_name is required.")
        }
        var task: [String: Any] = [
            "task_id": StandInJSON.hexID(24),
            // The v2 API answers with the project's id, never its name.
            "project": body["project_id"] as? String ?? StandInJSON.hexID(24),
            "status": "pending", "created_at": StandInJSON.timestamp(), "threads": [] as [Any],
            "metadata": body["metadata"] ?? [String: Any](),
        ]
        if let batch = body["batch_id"] as? String { task["batch"] = batch }
        return self.store(task)
    }

    private func store(_ task: [String: Any]) -> StandInResponse {
        let response = StandInResponse.json(task)
        let id = task["task_id"] as! String
        self.tasks.withLock { $0[id] = response.body }
        return response
    }

    private func stored(_ id: String) -> StandInResponse {
        guard let body = self.tasks.withLock({ $0[id] }) else { return Self.error(404, "Task not found.") }
        return StandInResponse(status: 200, body: body)
    }
}
