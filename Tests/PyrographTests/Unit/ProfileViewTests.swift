import XCTest
@testable import Aggregation
@testable import Output

/// The user's view of a profile: short Python file names, merged lines, and
/// CPython's glue frames hidden, applied the same way by every command.
final class ProfileViewTests: XCTestCase {
    static let app = Frame.process(comm: "python3", pid: 9)
    static let start = Frame.native(symbol: "_start", module: "python3.11")
    static let runMain = Frame.native(symbol: "Py_RunMain", module: "libpython3.12.so.1.0")
    static let script = Frame.python(function: "<module>", file: "/srv/app/main.py", line: 40)
    static let eval = Frame.native(symbol: "_PyEval_EvalFrameDefault", module: "libpython3.12.so.1.0")
    static let vectorcall = Frame.native(symbol: "_PyFunction_Vectorcall", module: "libpython3.12.so.1.0")
    static let cold = Frame.unsymbolized(module: "python3.13", offset: 0x4a10)
    static let decode = Frame.python(function: "JSONDecoder.decode", file: "/usr/lib/python3.11/json/decoder.py", line: 337)
    static let helper = Frame.python(function: "helper", file: "/srv/app/lib/util.py", line: 5)
    static let builtin = Frame.native(symbol: "builtin_sum", module: "libpython3.12.so.1.0")
    static let extensionCall = Frame.native(symbol: "zlib_compress", module: "zlib.cpython-312-x86_64-linux-gnu.so")
    static let deflate = Frame.native(symbol: "deflate", module: "libz.so.1.3")
    static let write = Frame.kernel(symbol: "ksys_write")

    func testFileNamesAreShortenedToTheirSysPathRoot() {
        let names = PythonFileNames()
        let cases = [
            ("/usr/lib/python3.11/json/decoder.py", "json/decoder.py"),
            ("/root/.pyenv/versions/3.12.1/lib/python3.12/json/decoder.py", "json/decoder.py"),
            ("/usr/lib/python3/dist-packages/requests/sessions.py", "requests/sessions.py"),
            ("/srv/venv/lib/python3.12/site-packages/requests/sessions.py", "requests/sessions.py"),
            ("/usr/local/lib64/python3.13t/threading.py", "threading.py"),
            ("/opt/py/lib/python2.7/os.py", "os.py"),
            // The last root wins: a package vendored in a checkout under site-packages.
            ("/venv/lib/python3.12/site-packages/pip/_vendor/site-packages/x.py", "x.py"),
            ("<frozen importlib._bootstrap>", "<frozen importlib._bootstrap>"),
            ("/srv/app/main.py", "/srv/app/main.py"),
            ("/usr/lib/python3.11/", "/usr/lib/python3.11/"),
            ("/usr/lib/pythonic/x.py", "/usr/lib/pythonic/x.py"),
            ("/home/me/lib/python-tools/x.py", "/home/me/lib/python-tools/x.py"),
        ]
        for (file, expected) in cases {
            XCTAssertEqual(names.shortened(file), expected, file)
        }
    }

    func testTheScriptDirectoryIsARootLearnedFromTheOutermostModuleFrame() {
        var profile = Profile()
        profile.add([Self.app, Self.start, Self.script, Self.eval, Self.helper])
        // A thread's stack starts in threading.py: not a script.
        profile.add([Self.app, .python(function: "<module>", file: "/usr/lib/python3.11/threading.py", line: 1), Self.helper])
        let names = PythonFileNames(learningFrom: profile)
        XCTAssertEqual(names.scriptDirectories, ["/srv/app/"])
        XCTAssertEqual(names.shortened("/srv/app/main.py"), "main.py")
        XCTAssertEqual(names.shortened("/srv/app/lib/util.py"), "lib/util.py")
        XCTAssertEqual(names.shortened("/srv/other.py"), "/srv/other.py")
    }

    func testGlueBetweenPythonFramesIsHiddenAndCalleesKept() {
        let stack = [Self.app, Self.start, Self.runMain, Self.script, Self.eval, Self.vectorcall, Self.cold, Self.decode,
                     Self.vectorcall, Self.extensionCall, Self.eval, Self.helper, Self.vectorcall, Self.builtin,
                     Self.extensionCall, Self.deflate, Self.write]
        XCTAssertEqual(InterpreterGlue.removed(from: stack),
                       [Self.app, Self.start, Self.runMain, Self.script, Self.decode, Self.extensionCall, Self.helper,
                        Self.vectorcall, Self.builtin, Self.extensionCall, Self.deflate, Self.write])
        // One Python frame: nothing lies between two.
        let single = [Self.app, Self.start, Self.script, Self.vectorcall, Self.builtin]
        XCTAssertEqual(InterpreterGlue.removed(from: single), single)
    }

    func testInterpreterModulesAreRecognizedByName() {
        for name in ["python3.11", "python3.13d", "python2.7", "python3", "libpython3.12.so.1.0", "libpython3.13t.so",
                     "libpython3.6m.so.1.0", "python3.14d", "libpython3.15d.so.1.0"] {
            XCTAssertTrue(InterpreterGlue.isInterpreterModule(name), name)
        }
        for name in ["libc.so.6", "zlib.cpython-312-x86_64-linux-gnu.so", "_ctypes.cpython-311-x86_64-linux-gnu.so",
                     "pythonista", "libpythonx.so", "python", "libz.so.1"] {
            XCTAssertFalse(InterpreterGlue.isInterpreterModule(name), name)
        }
    }

    func testTheViewMergesWhatBecomesEqualAndKeepsTotalsAndTimeline() throws {
        var profile = Profile(sampleTypes: [.samples, .cpuTime])
        let first = try XCTUnwrap(profile.add([Self.app, Self.script, Self.eval, Self.decode], values: [2, 20]))
        let other = try XCTUnwrap(profile.add([Self.app, Self.script, Self.eval, Self.vectorcall,
                                               .python(function: "JSONDecoder.decode",
                                                       file: "/usr/lib/python3.11/json/decoder.py", line: 338)],
                                              values: [3, 30]))
        profile.appendTimeline(.init(stack: other, timestampNanoseconds: 5, cpu: 1, values: [1, 10]))
        profile.appendTimeline(.init(stack: first, timestampNanoseconds: 7, cpu: 0, values: [1, 10]))
        profile.recording = RecordingInfo(frequency: 99, startNanoseconds: 1, startUnixNanoseconds: 2,
                                          durationNanoseconds: 3, processCount: 1)

        let view = ProfileView(lines: false).apply(to: profile)
        XCTAssertEqual(view.stacks.count, 1)
        XCTAssertEqual(view.stacks[0].values, [5, 50])
        XCTAssertEqual(view.totals, profile.totals)
        XCTAssertEqual(view.recording, profile.recording)
        XCTAssertEqual(view.timeline?.map(\.stack), [0, 0])
        XCTAssertEqual(view.timeline?.map(\.timestampNanoseconds), [5, 7])
        XCTAssertEqual(view.frames(of: view.stacks[0]).map(FrameNaming.displayName),
                       ["python3 (9)", "<module> (main.py)", "JSONDecoder.decode (json/decoder.py)"])

        let lines = ProfileView().apply(to: profile)
        XCTAssertEqual(lines.stacks.count, 2)
        XCTAssertEqual(lines.frames(of: lines.stacks[1]).map(FrameNaming.displayName),
                       ["python3 (9)", "<module> (main.py:40)", "JSONDecoder.decode (json/decoder.py:338)"])

        XCTAssertEqual(ProfileView.unchanged.apply(to: profile), profile)
        let everything = ProfileView(fullFileNames: true, lines: true, interpreterFrames: true).apply(to: profile)
        XCTAssertEqual(everything.frames(of: everything.stacks[1]), profile.frames(of: profile.stacks[1]))
    }

    func testMergedLinesReadBackFromFoldedText() throws {
        var profile = Profile()
        profile.add([Self.app, Self.script, Self.decode], count: 3)
        let merged = ProfileView(lines: false).apply(to: profile)
        let text = FoldedWriter.render(merged)
        XCTAssertEqual(text, "python3 (9);<module> (main.py);JSONDecoder.decode (json/decoder.py) 3\n")
        let back = try FoldedReader.read(text)
        XCTAssertEqual(back.frames(of: back.stacks[0]).last, .python(function: "JSONDecoder.decode", file: "json/decoder.py"))
    }
}
