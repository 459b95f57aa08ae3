import ArgumentParser

// Placeholder while the owning issue is in progress; replaced by the real command.
struct Test: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "test", abstract: "(in progress)")
}
