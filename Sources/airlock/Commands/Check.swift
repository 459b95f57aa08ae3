import ArgumentParser

// Placeholder while the owning issue is in progress; replaced by the real command.
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "(in progress)")
}
