import ArgumentParser

// Placeholder while the owning issue is in progress; replaced by the real command.
struct Redact: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "redact", abstract: "(in progress)")
}
