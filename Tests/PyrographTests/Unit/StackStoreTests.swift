import Aggregation
import CPyrograph
import XCTest
@testable import Recording

/// The recording's compact stack store, its profile, its windows, and what
/// the summary calls a complete Python stack.
final class StackStoreTests: XCTestCase {
    private let main = Frame.python(function: "<module>", file: "app.py", line: 1)
    private func python(_ name: String, _ line: Int = 2) -> Frame { .python(function: name, file: "app.py", line: line) }
    private let eval = Frame.native(symbol: "_PyEval_EvalFrameDefault", module: "libpython3.12.so")

    func testStacksArePathsThatShareTheirPrefixes() {
        let table = FrameTable()
        let a = [eval, main, python("a")]
        let b = [eval, main, python("b")]
        let nodeA = table.intern(a)
        let nodeB = table.intern(b)
        XCTAssertEqual(table.frameIDs(of: nodeA).map { table[$0] }, a)
        XCTAssertEqual(table.frameIDs(of: nodeB).map { table[$0] }, b)
        XCTAssertEqual(table.intern(a), nodeA)
        // eval, main, a, b: the prefix is stored once.
        XCTAssertEqual(table.nodeCount, 4)
        XCTAssertEqual(table.frameCount, 4)
        XCTAssertEqual(table.intern([]), FrameTable.emptyStack)
        XCTAssertEqual(table.frameIDs(of: FrameTable.emptyStack), [])
        // The same frame at another depth is another node, one frame.
        let nested = table.intern([eval, eval])
        XCTAssertEqual(table.frameIDs(of: nested).map { table[$0] }, [eval, eval])
        XCTAssertEqual(table.frameCount, 4)
    }

    /// A thousand processes running the same code keep one path; each
    /// costs its pid and tid beside the one process and thread name.
    func testProcessesRunningTheSameCodeShareOnePath() {
        let table = FrameTable()
        let frames = [eval, main, python("work")]
        let stacks = (0..<1000).map { pid in
            SymbolizedStack(id: Int(pid), process: .process(comm: "python3", pid: pid), thread: .thread(name: "python3", tid: pid),
                            frames: frames, table: table)
        }
        XCTAssertEqual(table.nodeCount, 3)
        XCTAssertEqual(table.frameCount, 3 + 2, "the process name and the thread name, once each")
        XCTAssertEqual(stacks[417].process, .process(comm: "python3", pid: 417))
        XCTAssertEqual(stacks[417].thread, .thread(name: "python3", tid: 417))
        XCTAssertEqual(stacks[417].frames, frames)
        let again = SymbolizedStack(id: 1000, process: .process(comm: "python3", pid: 417), thread: .thread(name: "python3", tid: 417),
                                    frames: frames, table: table)
        XCTAssertEqual(again.processFrameID, stacks[417].processFrameID)
        XCTAssertEqual(again.threadFrameID, stacks[417].threadFrameID)
        XCTAssertNotEqual(stacks[416].processFrameID, stacks[417].processFrameID)
    }

    /// Every kind of frame comes back from the table as it went in,
    /// whether it is stored plain or boxed.
    func testFramesComeBackAsInterned() {
        let table = FrameTable()
        let frames: [Frame] = [
            main, python("a", 0), .python(function: "<lambda>"), .python(function: "f", file: "x.py", line: Int(Int32.max)),
            .python(function: "f", file: "x.py", line: Int(Int32.min)), .python(function: "f", file: "x.py", line: 1 << 40),
            .kernel(symbol: "do_syscall_64"), eval, .unsymbolized(module: "a.out", offset: 0x1234, buildID: "abcd"),
            .annotation(.pythonStackTruncated(frames: 128)), .annotation(.offCPU(.sleeping)),
            Frame(kind: .python, function: "odd", file: "y.py", line: 3, module: "m"),
        ]
        let ids = frames.map { table.intern($0) }
        XCTAssertEqual(Set(ids).count, frames.count)
        XCTAssertEqual(ids.map { table[$0] }, frames)
        XCTAssertEqual(frames.map { table.intern($0) }, ids)
        for identity in [Frame.process(comm: "app", pid: 0), .process(comm: "app", pid: .max), .thread(name: "app", tid: -5),
                         Frame(kind: .process, function: "unknown")] {
            let id = table.internIdentity(identity)
            XCTAssertEqual(table[id], identity)
            XCTAssertEqual(table.internIdentity(identity), id)
        }
    }

    /// What the compact table saves, measured on the heap: 200,000 new
    /// Python frames (a churning program's), each as a one-frame stack,
    /// and 100,000 short-lived processes' frames. A `Frame` alone is 136
    /// bytes; a frame, its node and its index cost under 100 here.
    func testNewFramesAndProcessesTakeLittleHeap() {
        let table = FrameTable()
        let before = heapBytes()
        for generation in 0..<200_000 {
            _ = table.intern([.python(function: "f\(generation)", file: "gen.py", line: generation)])
        }
        let framesAndNodes = Double(heapBytes() - before) / 200_000
        let middle = heapBytes()
        for pid in Int32(1)...100_000 {
            _ = table.internIdentity(.process(comm: "python3", pid: pid))
            _ = table.internIdentity(.thread(name: "MainThread", tid: pid))
        }
        let processes = Double(heapBytes() - middle) / 100_000
        XCTAssertLessThan(framesAndNodes, 100, "bytes per new frame and its node")
        XCTAssertLessThan(processes, 60, "bytes per short-lived process")
        XCTAssertEqual(table.frameCount, 200_002)
    }

    /// What the memory ceiling (--max-stack-memory) reads: it grows with
    /// new frames and nodes, not with stacks already known.
    func testEstimatedBytesGrowWithNewFramesOnly() {
        let table = FrameTable()
        XCTAssertEqual(table.estimatedBytes, 0)
        _ = table.intern([eval, main, python("a")])
        let three = table.estimatedBytes
        XCTAssertGreaterThan(three, 3 * 40 + 3 * 8)
        _ = table.intern([eval, main, python("a")])
        XCTAssertEqual(table.estimatedBytes, three)
        _ = table.intern([eval, main, .python(function: "a_function_name_longer_than_fifteen", file: "app.py", line: 2)])
        XCTAssertGreaterThan(table.estimatedBytes, three + 40 + 8 + 35)
    }

    /// The sink finds each stack's totals by its id, whatever the ids:
    /// the session's 0, 1, 2, ..., ids below the first it saw (a window's
    /// sink meets older stacks), overflow stacks' negative ids and silent
    /// threads' past Int32.max.
    func testTheSinkCountsEachStackByItsID() {
        let table = FrameTable()
        let ids = [5, 6, 7, 9_000, -1, -2, 2, 0, Int(Int32.max) + 3, 8, 4_000, 10]
        let stacks = ids.map { id in
            SymbolizedStack(id: id, process: .process(comm: "app", pid: 1), thread: .thread(name: "app", tid: 1),
                            frames: [main, python("s\(id)")], table: table)
        }
        let sink = ProfileSink()
        for (position, stack) in stacks.enumerated() {
            for _ in 0...position { sink.consume(sample(stack, at: 0)) }
        }
        for (position, stack) in stacks.enumerated().reversed() {
            for _ in 0...position { sink.consume(sample(stack, at: 0)) }
        }
        let profile = sink.profile(recording: nil)
        XCTAssertEqual(profile.stacks.count, ids.count)
        for (position, id) in ids.enumerated() {
            let counted = profile.stacks.first { profile.frames(of: $0).last?.function == "s\(id)" }
            XCTAssertEqual(counted?.values.first, UInt64(2 * (position + 1)), "stack \(id)")
        }
    }

    /// What a stack costs the sink once it is known elsewhere: its totals
    /// and its slot, measured on the heap.
    func testTheSinkTakesLittleHeapPerStack() {
        let table = FrameTable()
        let stacks = (0..<200_000).map { id in
            SymbolizedStack(id: id, process: .process(comm: "app", pid: Int32(id / 4)), thread: .thread(name: "app", tid: Int32(id / 4)),
                            frames: [main], table: table)
        }
        let sink = ProfileSink()
        let before = heapBytes()
        for stack in stacks { sink.consume(sample(stack, at: 0)) }
        let perStack = Double(heapBytes() - before) / Double(stacks.count)
        XCTAssertLessThan(perStack, 50, "bytes per stack in the sink")
    }

    /// Once the session lets go of a stack (its process exited), the sink
    /// keeps its ids and frees the object; the profile is the same. A
    /// stack the session still holds stays an object and sees a rename.
    func testTheSinkLetsGoOfStacksTheSessionDropped() {
        let table = FrameTable()
        var stacks: [SymbolizedStack]? = (0..<100_000).map { id in
            SymbolizedStack(id: id, process: .process(comm: "app", pid: Int32(id / 4)), thread: .thread(name: "app", tid: Int32(id / 4)),
                            frames: [main, python("f", id % 50)], table: table)
        }
        let sink = ProfileSink(keepsTimeline: true)
        for stack in stacks! { sink.consume(sample(stack, at: UInt64(stack.id))) }
        let held = stacks![7]
        let before = sink.profile(recording: nil)
        stacks = nil
        let heapBefore = heapBytes()
        sink.retireStacks()
        let freedPerStack = Double(heapBefore - heapBytes()) / 100_000
        XCTAssertGreaterThan(freedPerStack, 50, "bytes freed per stack the session dropped")
        XCTAssertEqual(sink.profile(recording: nil), before)

        held.rename([main, python("renamed")])
        sink.retireStacks()
        let after = sink.profile(recording: nil)
        let renamed = after.stacks.filter { after.frames(of: $0).contains { $0.function == "renamed" } }
        XCTAssertEqual(renamed.map { $0.values[0] }, [1], "the held stack, renamed")
    }

    func testProfileFromTheSinkAppliesTheView() {
        let table = FrameTable()
        let kernel = Frame.kernel(symbol: "do_syscall_64")
        let one = SymbolizedStack(id: 0, process: .process(comm: "app", pid: 1), thread: .thread(name: "app", tid: 1),
                                  frames: [eval, main, python("a"), kernel], table: table)
        let two = SymbolizedStack(id: 1, process: .process(comm: "app", pid: 2), thread: .thread(name: "app", tid: 2),
                                  frames: [eval, main, python("a")], table: table)
        let sink = ProfileSink(options: .init(includeKernel: false, mergeProcesses: true))
        for (stack, count) in [(one, 3), (two, 2)] {
            for _ in 0..<count { sink.consume(sample(stack, at: 0)) }
        }
        let profile = sink.profile(recording: nil)
        XCTAssertEqual(profile.stacks.count, 1, "kernel frame dropped and processes merged: one stack")
        XCTAssertEqual(profile.frames(of: profile.stacks[0]).map(\.function), ["app", "_PyEval_EvalFrameDefault", "<module>", "a"])
        XCTAssertEqual(profile.totalSamples, 5)
    }

    /// The sink builds the viewed profile in one pass: the same profile,
    /// frame for frame and in the same order, as applying the view to the
    /// raw one, for every combination of the view's choices.
    func testOnePassViewEqualsApplyingTheView() {
        let tables = [FrameTable(), FrameTable()]
        let script = Frame.python(function: "<module>", file: "/srv/app/main.py", line: 1)
        let library = Frame.python(function: "decode", file: "/usr/lib/python3.12/json/decoder.py", line: 353)
        let package = Frame.python(function: "get", file: "/srv/venv/lib/python3.12/site-packages/requests/api.py", line: 73)
        let call = Frame.native(symbol: "_PyObject_Call", module: "libpython3.12.so.1.0")
        let deflate = Frame.native(symbol: "deflate", module: "libz.so.1")
        let kernel = Frame.kernel(symbol: "do_syscall_64")
        let stacks: [[Frame]] = [
            [eval, script, call, library, python("a", 3), deflate, kernel],
            [eval, script, call, eval, package, call, library],
            [eval, script, python("a", 4), kernel],
            [eval, script, python("a", 5)],
            [call, deflate],
            // The interpreter's frames outside the Python ones stay.
            [eval, script, python("b"), call, eval, deflate],
        ]
        var symbolized: [SymbolizedStack] = []
        for (position, frames) in stacks.enumerated() {
            for (pid, table) in zip([Int32(1), 2], tables) {
                symbolized.append(SymbolizedStack(id: symbolized.count, process: .process(comm: "app", pid: pid),
                                                  thread: .thread(name: "worker-\(position % 2)", tid: pid * 10 + Int32(position % 2)),
                                                  frames: frames, table: table))
            }
        }
        for options in [StackAggregator.Options(), .init(perThread: true, includeKernel: false, mergeProcesses: true)] {
            let sink = ProfileSink(options: options, keepsTimeline: true)
            for (number, stack) in symbolized.enumerated() {
                for repeat_ in 0...(number % 3) { sink.consume(sample(stack, at: UInt64(number * 10 + repeat_))) }
            }
            for full in [false, true] {
                for lines in [false, true] {
                    for glue in [false, true] {
                        let naming = ProfileView(fullFileNames: full, lines: lines, interpreterFrames: glue)
                        XCTAssertEqual(sink.profile(recording: nil, naming: naming), naming.apply(to: sink.profile(recording: nil)),
                                       "\(naming), \(options)")
                    }
                }
            }
        }
    }

    /// Samples on either side of a boundary go to their own window, each
    /// once; a sample read after its window was handed over is counted as
    /// late, not put in a later window; the last window is cut at the stop.
    func testWindowsTakeEachSampleOnceByItsTimestamp() {
        let table = FrameTable()
        let stack = SymbolizedStack(id: 0, process: .process(comm: "app", pid: 1), thread: .thread(name: "app", tid: 1),
                                    frames: [main], table: table)
        var windows: [WindowedProfileSink.Window] = []
        let sink = WindowedProfileSink(lengthSeconds: 1, graceSeconds: 0.5,
                                       recording: .init(frequency: 99, startNanoseconds: 0, startUnixNanoseconds: 0,
                                                        durationNanoseconds: 0, processCount: 0),
                                       makeSink: { ProfileSink() }, onWindow: { windows.append($0) })
        let start: UInt64 = 5_000_000_000
        sink.recordingStarted(monotonicNanoseconds: start, unixNanoseconds: 1_700_000_000_000_000_000)
        sink.consume(sample(stack, at: start - 1_000)) // before the start: the first window
        sink.consume(sample(stack, at: start + 999_999_999))
        sink.consume(sample(stack, at: start + 1_000_000_000))
        sink.consume(sample(stack, at: start + 2_500_000_000))
        sink.tick(elapsedSeconds: 1.4)
        XCTAssertEqual(windows.count, 0, "handed over only after the grace")
        sink.tick(elapsedSeconds: 2.6)
        XCTAssertEqual(windows.map(\.index), [0, 1])
        sink.consume(sample(stack, at: start + 1_999_999_999)) // window 1, already written
        XCTAssertEqual(sink.lateSamples, 1)
        sink.finish(elapsedSeconds: 3.2)
        XCTAssertEqual(windows.map(\.index), [0, 1, 2, 3])
        XCTAssertEqual(windows.map(\.profile.totalSamples), [2, 1, 1, 0])
        XCTAssertEqual(windows.map(\.startUnixNanoseconds).map { $0 - 1_700_000_000_000_000_000 },
                       [0, 1_000_000_000, 2_000_000_000, 3_000_000_000])
        XCTAssertEqual(windows.map { $0.profile.recording?.durationNanoseconds }, [1_000_000_000, 1_000_000_000, 1_000_000_000, 200_000_000])
        XCTAssertEqual(sink.samplesConsumed, 4)
    }

    func testACompletePythonStackReachesItsRoot() {
        XCTAssertTrue([eval, main, python("a")].isCompletePython)
        XCTAssertTrue([Frame.python(function: "Thread._bootstrap", file: "/usr/lib/python3.12/threading.py", line: 995),
                       python("worker")].isCompletePython)
        XCTAssertTrue([Frame.python(function: "_run_module_as_main", file: "<frozen runpy>", line: 198),
                       python("main")].isCompletePython)
        XCTAssertTrue([Frame.python(function: "_run_module_as_main", file: "/usr/lib/python3.11/runpy.py", line: 198),
                       python("main")].isCompletePython)
        // Cut to its leaf frame: the walk never reached a root.
        XCTAssertFalse([eval, python("leaf")].isCompletePython)
        XCTAssertFalse([eval].isCompletePython)
        XCTAssertFalse([eval, main, .annotation(.pythonFrameUnreadable), python("a")].isCompletePython)
    }

    private func heapBytes() -> Int { Int(pyro_heap_bytes_in_use()) }

    private func sample(_ stack: SymbolizedStack, at timestamp: UInt64) -> SymbolizedSample {
        SymbolizedSample(stack: stack, timestampNanoseconds: timestamp, cpu: 0, origin: .onCPU, weightNanoseconds: 10_101_010)
    }
}
