// swift-tools-version:5.10
import PackageDescription

// `make fuzz` builds with PYROGRAPH_LIBFUZZER=1 and --sanitize=fuzzer: the
// fuzz target then leaves main to libFuzzer (otherwise it replays files).
let libFuzzer = Context.environment["PYROGRAPH_LIBFUZZER"] == "1"

let package = Package(
    name: "pyrograph",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "pyrograph", targets: ["pyrograph"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // pprof's profile.proto (Sources/Output/Pprof); the generated code is committed.
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // The shared ABI header, the generated BPF skeleton and thin C shims.
        .target(
            name: "CPyrograph",
            exclude: ["generated"],
            cSettings: [.unsafeFlags(["-Wno-unused-function"])],
            linkerSettings: [
                .linkedLibrary("bpf"), .linkedLibrary("elf"),
                .linkedLibrary("z"), .linkedLibrary("stdc++"),
            ]
        ),
        // Loading the BPF programs, perf events, the ring buffer, kernel counters.
        .target(name: "BPFSampler", dependencies: ["CPyrograph"]),
        // /proc: processes, threads, memory maps, reading another process's memory.
        .target(name: "ProcessInspection", dependencies: ["CPyrograph"]),
        // CPython: finding interpreters, version layouts, line tables, code objects.
        .target(name: "PythonRuntime", dependencies: ["ProcessInspection", "Symbolization", "NativeUnwinding", "CPyrograph"]),
        // DWARF CFI (.eh_frame, .debug_frame) compiled into the BPF unwinder's tables.
        .target(name: "NativeUnwinding", dependencies: ["Symbolization", "ProcessInspection", "CPyrograph"]),
        // Addresses to names: ELF symbol tables, kallsyms, demangling.
        .target(name: "Symbolization", dependencies: ["CPyrograph", "ProcessInspection"]),
        // Stacks with counts; pure, no I/O. Every command and writer uses it.
        .target(name: "Aggregation"),
        // zlib, for pprof's gzip.
        .systemLibrary(name: "CZlib"),
        // Every format pyrograph writes (flame graph, folded, pprof, ...) and the readers.
        .target(
            name: "Output",
            dependencies: ["Aggregation", "CZlib", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["Assets", "Pprof/profile.proto"],
            plugins: ["EmbedAssets"]
        ),
        // The BPF Python walker (bpf/python_walker.bpf.h) compiled for the host.
        .target(name: "CPythonWalker", dependencies: ["CPyrograph"]),
        // Ties sampler, symbolizer and aggregator into one recording session.
        .target(
            name: "Recording",
            dependencies: ["BPFSampler", "ProcessInspection", "Symbolization", "PythonRuntime", "NativeUnwinding",
                           "Aggregation", "CPyrograph", "CPythonWalker"]
        ),
        // `pyrograph top`: the live ranking (pure) and the terminal it is drawn on.
        .target(name: "Live", dependencies: ["Recording", "Aggregation", "Output"]),
        // ptrace(2) with fixed signatures, for `dump --lock`.
        .target(name: "CPtrace"),
        // `pyrograph dump`: every thread's stacks of a live process, read from user space.
        .target(
            name: "ThreadDump",
            dependencies: ["CPythonWalker", "CPyrograph", "CPtrace", "ProcessInspection", "PythonRuntime",
                           "Symbolization", "Output"]
        ),
        .executableTarget(
            name: "pyrograph",
            dependencies: [
                "ThreadDump", "Recording", "Live", "Output", "Aggregation", "ProcessInspection", "PythonRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Build tool: turns Sources/Output/Assets/* into Swift string constants.
        .executableTarget(name: "asset-embedder", path: "Plugins/AssetEmbedderTool"),
        .plugin(
            name: "EmbedAssets",
            capability: .buildTool(),
            dependencies: ["asset-embedder"]
        ),
        // The BPF native unwinder compiled for the host, for tests only.
        .target(name: "CWalkerHarness", dependencies: ["CPyrograph"], path: "Tests/CWalkerHarness"),
        // Fuzz targets for the parsers of untrusted input (Tests/Fuzz/README.md);
        // not part of the product.
        .executableTarget(
            name: "pyrograph-fuzz",
            dependencies: ["Symbolization", "NativeUnwinding", "PythonRuntime", "Recording", "ProcessInspection",
                           "CPyrograph", "CPythonWalker"],
            path: "Tests/Fuzz/PyrographFuzz",
            swiftSettings: [.unsafeFlags(["-parse-as-library"])] + (libFuzzer ? [.define("PYROGRAPH_LIBFUZZER")] : [])
        ),
        .testTarget(
            name: "PyrographTests",
            dependencies: [
                "Aggregation", "Output", "Symbolization", "ProcessInspection", "PythonRuntime",
                "NativeUnwinding", "BPFSampler", "Recording", "CPyrograph", "CWalkerHarness", "CPythonWalker", "Live",
                "ThreadDump",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            resources: [.copy("Golden"), .copy("Fixtures")]
        ),
    ]
)
