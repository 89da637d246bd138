/// Frames as a `ProfileView` shows them, for a builder that names many:
/// each Python file name is shortened once, not once per frame.
public struct ShownFrames {
    private let view: ProfileView
    private let names: PythonFileNames?
    private var shortenedFiles: [String: String] = [:]

    /// `names`: the script directories the file names are shortened by
    /// (nil with `fullFileNames`).
    public init(view: ProfileView, names: PythonFileNames?) {
        self.view = view
        self.names = names
    }

    public mutating func shown(_ frame: Frame) -> Frame {
        guard let names, frame.kind == .python, let file = frame.file else { return view.shown(frame, names: nil) }
        var frame = frame
        if let known = shortenedFiles[file] {
            frame.file = known
        } else {
            frame.file = names.shortened(file)
            shortenedFiles[file] = frame.file
        }
        return view.shown(frame, names: nil)
    }
}
