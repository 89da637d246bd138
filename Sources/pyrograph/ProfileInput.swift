import Aggregation
import Output

/// The profile a command is given to read (`convert`, `report`): any
/// format `ProfileReader` knows, with its refusal said as the CLI's error.
enum ProfileInput {
    static func read(_ path: String) throws -> Profile {
        do {
            return try ProfileReader.read(path: path)
        } catch let error as ProfileReadError {
            throw CLIError(error.description)
        }
    }
}
