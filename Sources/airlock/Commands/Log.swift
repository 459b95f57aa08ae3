import ArgumentParser

// Placeholder while the owning issue is in progress; replaced by the real command.
struct Log: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "log", abstract: "(in progress)")
}
