import AirlockProxy
import ArgumentParser
import Logging

/// `--log-format`: how `airlock serve` writes its log to standard error.
enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    /// swift-log's text lines, for people.
    case text
    /// One JSON object per line (time, level, label, message, fields), for log shippers.
    case json

    /// Makes every logger of the process write in this format, from `level` up.
    func bootstrap(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            switch self {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json:
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}
