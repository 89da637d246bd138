import Foundation
import ProcessInspection
import Symbolization
import XCTest

/// Run-time addresses back to names, checked against what `nm` says about
/// real files: a shared library this process dlopens (C and C++), PIE and
/// non-PIE executables running as children, the system's libz, and the
/// places with no file behind them.
final class ELFSymbolTests: XCTestCase {
    static let compileFlags = ["-O1", "-g", "-fno-omit-frame-pointer", "-fno-inline"]
    static var elfFixtures: URL { TestSupport.fixtures.appendingPathComponent("elf") }

    // MARK: Shared library in this process

    /// Two builds of the same library: one whose file offsets equal its
    /// addresses (the usual case), and one linked at 0x40000, where only a
    /// correct offset-to-address translation finds the symbols.
    func testSharedLibraryAddressesResolveToNMSymbols() throws {
        for (variant, linkFlags) in [("plain", [String]()), ("based", ["-Wl,-Ttext-segment=0x40000"])] {
            let directory = try TestSupport.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let library = try Self.buildLibrary(named: "pyrofixture_\(variant)", in: directory, linkFlags: linkFlags)
            let symbols = try Self.nm(library.path)
            if variant == "based" {
                XCTAssertGreaterThanOrEqual(try XCTUnwrap(symbols["pyro_fixture_add"]).value, 0x40000,
                                            "the based variant must not have file offsets equal to addresses")
            }
            // Read the map before the dlopen: the symbolizer must notice the new library.
            let symbolizer = ProcessSymbolizer(pid: getpid(), modules: ModuleCache())
            XCTAssertGreaterThan(symbolizer.mappingCount, 0)
            let loaded = try DlopenedLibrary(path: library.path)
            defer { withExtendedLifetime(loaded) {} }
            let module = library.lastPathComponent

            // pyro_fixture_add has an alias at its address: either name is right.
            let functions: [(symbol: String, accepted: Set<String>)] = [
                ("pyro_fixture_add", ["pyro_fixture_add", "pyro_fixture_add_alias"]),
                ("pyro_fixture_add_alias", ["pyro_fixture_add", "pyro_fixture_add_alias"]),
                ("pyro_fixture_call_static", ["pyro_fixture_call_static"]),
                ("pyro_fixture_spin_widget", ["pyro_fixture_spin_widget"]),
                ("_ZN2ns6Widget4spinEi", ["ns::Widget::spin(int)"]),
            ]
            for function in functions {
                let context = "\(function.symbol) in the \(variant) library"
                let address = try loaded.address(of: function.symbol)
                let expected = try XCTUnwrap(symbols[function.symbol], context)
                let size = try XCTUnwrap(expected.size, "\(context) should have a size")
                XCTAssertGreaterThan(size, 5, context)

                let start = symbolizer.symbolize(address, isReturnAddress: false)
                XCTAssertTrue(function.accepted.contains(start.symbol ?? "nil"), "\(context): got \(start)")
                XCTAssertEqual(start.module, module, context)
                XCTAssertEqual(start.moduleOffset, expected.value, "\(context): file address from nm")
                XCTAssertTrue(start.isInFile, context)

                let inside = symbolizer.symbolize(address + 5, isReturnAddress: false)
                XCTAssertEqual(inside.symbol, start.symbol, "\(context) +5")
                XCTAssertEqual(inside.moduleOffset, expected.value + 5, "\(context) +5")

                // A call as a function's last instruction leaves a return
                // address one past its end.
                let returnAddress = symbolizer.symbolize(address + size, isReturnAddress: true)
                XCTAssertEqual(returnAddress.symbol, start.symbol, "\(context): return address one past the end")
                XCTAssertEqual(returnAddress.moduleOffset, expected.value + size - 1, context)
                let pastEnd = symbolizer.symbolize(address + size, isReturnAddress: false)
                XCTAssertNotEqual(pastEnd.symbol, start.symbol, "\(context): one past the end is not the function")
            }

            // A static function is only in .symtab.
            let staticAddress = try loaded.call(returningPointer: "pyro_fixture_static_address")
            let worker = symbolizer.symbolize(staticAddress + 1, isReturnAddress: false)
            XCTAssertEqual(worker.symbol, "fixture_static_worker", variant)
            XCTAssertEqual(worker.moduleOffset, try XCTUnwrap(symbols["fixture_static_worker"]).value + 1, variant)

            // An assembly function without .size: ELFFile drops size-0
            // symbols (they would claim everything up to the next one, such
            // as the whole PLT), so it may go unnamed, but it must not be
            // taken for a neighbour.
            let unsizedValue = try XCTUnwrap(symbols["pyro_fixture_unsized"])
            XCTAssertNil(unsizedValue.size, "the fixture's assembly function should have no size")
            let unsized = symbolizer.symbolize(try loaded.address(of: "pyro_fixture_unsized") + 6, isReturnAddress: false)
            XCTAssertTrue(unsized.symbol == nil || unsized.symbol == "pyro_fixture_unsized", "\(variant): \(unsized)")
            XCTAssertEqual(unsized.module, module, variant)
            XCTAssertEqual(unsized.moduleOffset, unsizedValue.value + 6, variant)
        }
    }

    /// A symbolizer made after the dlopen sees the library in its first map.
    func testSymbolizerMadeAfterDlopen() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let library = try Self.buildLibrary(named: "pyrofixture_after", in: directory)
        let loaded = try DlopenedLibrary(path: library.path)
        defer { withExtendedLifetime(loaded) {} }
        let symbolizer = ProcessSymbolizer(pid: getpid(), modules: ModuleCache())
        let resolved = symbolizer.symbolize(try loaded.address(of: "pyro_fixture_spin_widget"), isReturnAddress: false)
        XCTAssertEqual(resolved.symbol, "pyro_fixture_spin_widget")
        XCTAssertEqual(resolved.module, "libpyrofixture_after.so")
        XCTAssertEqual(resolved.moduleOffset, try XCTUnwrap(Self.nm(library.path)["pyro_fixture_spin_widget"]).value)
    }

    /// Mapping changes mark the map stale; it is read once, at the next
    /// lookup. A process that has exited (a zombie, whose map reads empty)
    /// keeps the map read before, so its last samples are still named.
    func testAChangedMapIsReadOnceAndAnExitedProcessKeepsItsLast() throws {
        var pid: pid_t = 0
        let words: [String] = ["/bin/sleep", "30"]
        var argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        XCTAssertEqual(posix_spawn(&pid, "/bin/sleep", nil, nil, &argv, environ), 0)
        defer {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        // Until the child has exec'd sleep, its map is this test's.
        var code: MemoryMapping?
        for _ in 0..<200 where code == nil {
            code = try? ProcessDirectory(pid: pid).mappings().first { $0.isExecutable && $0.path.hasSuffix("/sleep") }
            if code == nil { usleep(10_000) }
        }
        let text = try XCTUnwrap(code, "sleep's code in its map")
        let symbolizer = ProcessSymbolizer(pid: pid, modules: ModuleCache())
        XCTAssertEqual(symbolizer.mapReads, 1)
        for _ in 0..<50 { symbolizer.mappingsChanged() }
        XCTAssertEqual(symbolizer.symbolize(text.start + 16, isReturnAddress: false).module, "sleep")
        XCTAssertEqual(symbolizer.mapReads, 2, "fifty changes, one read")

        kill(pid, SIGKILL)
        var state = ""
        for _ in 0..<200 where state != "Z" {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            state = stat.split(separator: ")").last.map { String($0.dropFirst().prefix(1)) } ?? ""
            if state != "Z" { usleep(10_000) }
        }
        XCTAssertEqual(state, "Z", "the child is a zombie")
        symbolizer.mappingsChanged()
        let resolved = symbolizer.symbolize(text.start + 32, isReturnAddress: false)
        XCTAssertEqual(resolved.module, "sleep", "named from the map read while it ran")
        XCTAssertEqual(symbolizer.mapReads, 3)
    }

    /// A library deleted (or replaced by an upgrade) after it was loaded is
    /// still read through /proc/PID/map_files, and named without " (deleted)".
    func testDeletedLibraryStillResolves() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let library = try Self.buildLibrary(named: "pyrofixture_deleted", in: directory)
        let expected = try XCTUnwrap(Self.nm(library.path)["pyro_fixture_call_static"])
        let loaded = try DlopenedLibrary(path: library.path)
        defer { withExtendedLifetime(loaded) {} }
        let address = try loaded.address(of: "pyro_fixture_call_static")
        try FileManager.default.removeItem(at: library)
        let mapping = try XCTUnwrap(ProcessDirectory(pid: getpid()).mappings().first { $0.contains(address) })
        XCTAssertTrue(mapping.path.hasSuffix(" (deleted)"), mapping.path)

        let resolved = ProcessSymbolizer(pid: getpid(), modules: ModuleCache()).symbolize(address + 1, isReturnAddress: true)
        XCTAssertEqual(resolved.symbol, "pyro_fixture_call_static")
        XCTAssertEqual(resolved.module, "libpyrofixture_deleted.so")
        XCTAssertEqual(resolved.moduleOffset, expected.value)
    }

    /// With .symtab stripped, exported functions still resolve through .dynsym.
    func testStrippedLibraryResolvesThroughDynsym() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let built = try Self.buildLibrary(named: "pyrofixture_unstripped", in: directory)
        let stripped = directory.appendingPathComponent("libpyrofixture_stripped.so")
        try Self.check(TestSupport.run("/usr/bin/strip", ["--strip-all", "-o", stripped.path, built.path]), "strip")
        let file = try ELFFile(path: stripped.path)
        XCTAssertFalse(file.symbols.symbols.contains { $0.name == "fixture_static_worker" },
                       "strip --strip-all should have removed .symtab")
        let loaded = try DlopenedLibrary(path: stripped.path)
        defer { withExtendedLifetime(loaded) {} }
        let symbolizer = ProcessSymbolizer(pid: getpid(), modules: ModuleCache())
        let values = try Self.nm(stripped.path, dynamic: true)
        for name in ["pyro_fixture_call_static", "pyro_fixture_spin_widget"] {
            let resolved = symbolizer.symbolize(try loaded.address(of: name) + 2, isReturnAddress: false)
            XCTAssertEqual(resolved.symbol, name)
            XCTAssertEqual(resolved.module, "libpyrofixture_stripped.so")
            XCTAssertEqual(resolved.moduleOffset, try XCTUnwrap(values[name]).value + 2, name)
        }
        let method = symbolizer.symbolize(try loaded.address(of: "_ZN2ns6Widget4spinEi"), isReturnAddress: false)
        XCTAssertEqual(method.symbol, "ns::Widget::spin(int)")
        // The static function lost its name with .symtab. The .dynsym symbol
        // before it is the unsized pyro_fixture_unsized: no name is better
        // than that wrong one.
        let worker = symbolizer.symbolize(try loaded.call(returningPointer: "pyro_fixture_static_address") + 1,
                                          isReturnAddress: false)
        XCTAssertNil(worker.symbol, "\(worker)")
        XCTAssertEqual(worker.module, "libpyrofixture_stripped.so")
        XCTAssertTrue(worker.isInFile)
    }

    /// What ELFFile reads directly: symbols, segments, build id, data symbols.
    func testELFFileReadsSymbolsSegmentsAndBuildID() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let library = try Self.buildLibrary(named: "pyrofixture_elf", in: directory,
                                            linkFlags: ["-Wl,-Ttext-segment=0x40000", "-Wl,--build-id=sha1"])
        let file = try ELFFile(path: library.path)
        let symbols = try Self.nm(library.path)
        for name in ["pyro_fixture_call_static", "fixture_static_worker", "_ZN2ns6Widget4spinEi"] {
            let expected = try XCTUnwrap(symbols[name])
            let hit = try XCTUnwrap(file.symbols.lookup(expected.value), name)
            XCTAssertEqual(hit.symbol.name, name)
            XCTAssertEqual(hit.offset, 0)
            XCTAssertEqual(hit.symbol.size, expected.size, name)
        }
        // Only functions: the data symbol is not in the table.
        let sink = try XCTUnwrap(symbols["pyro_fixture_sink"])
        XCTAssertFalse(file.symbols.symbols.contains { $0.name == "pyro_fixture_sink" })
        XCTAssertEqual(try ELFFile.symbolValues(path: library.path, names: ["pyro_fixture_sink", "absent"]),
                       ["pyro_fixture_sink": sink.value])

        XCTAssertEqual(try ELFFile.lowestLoadAddress(path: library.path), 0x40000)
        // Linked at 0x40000: every file offset is 0x40000 below its address.
        let add = try XCTUnwrap(symbols["pyro_fixture_add"]).value
        let text = try XCTUnwrap(file.segments.first { $0.virtualAddress <= add && add < $0.virtualAddress + $0.fileSize })
        XCTAssertEqual(text.virtualAddress - text.fileOffset, 0x40000)
        XCTAssertEqual(file.virtualAddress(forFileOffset: add - 0x40000), add)

        let notes = try TestSupport.run("/usr/bin/readelf", ["-n", library.path])
        let buildID = notes.stdout.split(separator: "\n").first { $0.contains("Build ID:") }
            .map { String($0.split(separator: " ").last!) }
        XCTAssertNotNil(buildID, notes.stdout)
        XCTAssertEqual(file.buildID, buildID)
        XCTAssertEqual(file.buildID?.count, 40, "sha1 build id")
    }

    func testNonELFFileThrows() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = directory.appendingPathComponent("not-elf.txt")
        try Data("just text, not an ELF object\n".utf8).write(to: text)
        XCTAssertThrowsError(try ELFFile(path: text.path)) { error in
            XCTAssertTrue(error is SymbolizationError, "\(error)")
        }
        XCTAssertThrowsError(try ELFFile(path: directory.appendingPathComponent("missing.so").path)) { error in
            XCTAssertEqual((error as? SystemError)?.errno, ENOENT, "\(error)")
        }
    }

    // MARK: Executables in child processes

    func testPIEExecutable() throws {
        try checkExecutable(name: "address_printer_pie", flags: ["-fPIE", "-pie"], expectedType: "DYN")
    }

    func testNonPIEExecutable() throws {
        try checkExecutable(name: "address_printer_nopie", flags: ["-fno-pie", "-no-pie"], expectedType: "EXEC")
    }

    private func checkExecutable(name: String, flags: [String], expectedType: String) throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let binary = directory.appendingPathComponent(name)
        try Self.check(TestSupport.run("/usr/bin/gcc", Self.compileFlags + flags
                + ["-o", binary.path, Self.elfFixtures.appendingPathComponent("address_printer.c").path]), "gcc \(name)")
        let header = try TestSupport.run("/usr/bin/readelf", ["-h", binary.path]).stdout
        XCTAssertTrue(header.contains("Type:") && header.contains(expectedType), "\(name) is not \(expectedType):\n\(header)")
        let target = try XCTUnwrap(Self.nm(binary.path)["pyro_target"])

        let child = try FixtureChild(binary.path, ["30"])
        defer { child.stop() }
        let line = try child.readLine(timeout: 10)
        let address = try XCTUnwrap(UInt64(line.hasPrefix("0x") ? String(line.dropFirst(2)) : line, radix: 16),
                                    "address line: \(line)")
        if expectedType == "EXEC" {
            XCTAssertEqual(address, target.value, "a non-PIE executable runs at its link address")
        } else {
            XCTAssertNotEqual(address, target.value, "a PIE should have been loaded with a bias")
        }

        let modules = ModuleCache()
        let symbolizer = ProcessSymbolizer(pid: child.pid, modules: modules)
        let resolved = symbolizer.symbolize(address, isReturnAddress: false)
        XCTAssertEqual(resolved.symbol, "pyro_target")
        XCTAssertEqual(resolved.module, name)
        XCTAssertEqual(resolved.moduleOffset, target.value)
        XCTAssertTrue(resolved.isInFile)
        let inside = symbolizer.symbolize(address + 4, isReturnAddress: true)
        XCTAssertEqual(inside.symbol, "pyro_target")
        XCTAssertEqual(inside.moduleOffset, target.value + 3)

        // The map is read while the process lives: its addresses still get
        // names after it exits.
        let late = ProcessSymbolizer(pid: child.pid, modules: ModuleCache())
        child.stop()
        late.markExited()
        let afterExit = late.symbolize(address + 1, isReturnAddress: false)
        XCTAssertEqual(afterExit.symbol, "pyro_target", "after exit")
        XCTAssertEqual(afterExit.moduleOffset, target.value + 1, "after exit")
    }

    // MARK: System library, anonymous memory, nothing

    func testLibzDeflate() throws {
        let loaded = try DlopenedLibrary(path: "libz.so.1")
        defer { withExtendedLifetime(loaded) {} }
        let address = try loaded.address(of: "deflate")
        let mapping = try XCTUnwrap(ProcessDirectory(pid: getpid()).mappings().first { $0.contains(address) })
        let expected = try XCTUnwrap(Self.nm(mapping.path, dynamic: true)["deflate"], mapping.path)

        let symbolizer = ProcessSymbolizer(pid: getpid(), modules: ModuleCache())
        let resolved = symbolizer.symbolize(address, isReturnAddress: false)
        XCTAssertEqual(resolved.symbol, "deflate")
        XCTAssertTrue(resolved.module.hasPrefix("libz.so.1"), resolved.module)
        XCTAssertEqual(resolved.moduleOffset, expected.value)
        XCTAssertEqual(symbolizer.symbolize(address + 17, isReturnAddress: true).symbol, "deflate")
    }

    func testAnonymousAndUnmappedAddresses() throws {
        let page = UInt64(sysconf(Int32(_SC_PAGESIZE)))
        // Three pages, only the middle one executable, so the kernel cannot
        // merge it with a neighbour.
        let base = mmap(nil, Int(page * 3), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        XCTAssertNotEqual(base, MAP_FAILED)
        guard let base, base != MAP_FAILED else { return }
        defer { munmap(base, Int(page * 3)) }
        XCTAssertEqual(mprotect(base + Int(page), Int(page), PROT_READ | PROT_EXEC), 0)
        let start = UInt64(UInt(bitPattern: base)) + page

        let symbolizer = ProcessSymbolizer(pid: getpid(), modules: ModuleCache())
        let anonymous = symbolizer.symbolize(start + 16, isReturnAddress: false)
        XCTAssertNil(anonymous.symbol)
        XCTAssertEqual(anonymous.module, "[anon]")
        XCTAssertEqual(anonymous.moduleOffset, 16)
        XCTAssertFalse(anonymous.isInFile)

        // Nothing is ever mapped below mmap_min_addr.
        let low = symbolizer.symbolize(0x1000, isReturnAddress: false)
        XCTAssertNil(low.symbol)
        XCTAssertEqual(low.module, "[unmapped]")
        XCTAssertEqual(low.moduleOffset, 0x1000)
        XCTAssertFalse(low.isInFile)

        // A hole punched next to the executable page.
        XCTAssertEqual(munmap(base + Int(page * 2), Int(page)), 0)
        let hole = symbolizer.symbolize(start + page + 8, isReturnAddress: false)
        XCTAssertEqual(hole.module, "[unmapped]")
        XCTAssertNil(hole.symbol)
        XCTAssertFalse(hole.isInFile)
    }

    func testVDSOIsNamedAndCountsAsCode() throws {
        let vdso = try XCTUnwrap(ProcessDirectory(pid: getpid()).mappings().first { $0.path == "[vdso]" })
        let symbolizer = ProcessSymbolizer(pid: getpid(), modules: ModuleCache())
        let resolved = symbolizer.symbolize(vdso.start + 0x10, isReturnAddress: false)
        XCTAssertEqual(resolved.module, "[vdso]")
        XCTAssertEqual(resolved.moduleOffset, 0x10)
        XCTAssertTrue(resolved.isInFile)
    }

    // MARK: Demangling and the symbol table

    func testDemangler() {
        XCTAssertEqual(Demangler.demangle("_ZN2ns6Widget4spinEi"), "ns::Widget::spin(int)")
        XCTAssertEqual(Demangler.demangle("_ZNSt6vectorIiSaIiEE9push_backERKi"),
                       "std::vector<int, std::allocator<int> >::push_back(int const&)")
        XCTAssertEqual(Demangler.demangle("_Z3fooPKc"), "foo(char const*)")
        // Not mangled, or not valid: unchanged.
        XCTAssertEqual(Demangler.demangle("deflate"), "deflate")
        XCTAssertEqual(Demangler.demangle("_Z"), "_Z")
        XCTAssertEqual(Demangler.demangle("_Zgarbage!"), "_Zgarbage!")
        XCTAssertEqual(Demangler.demangle(""), "")
    }

    func testSymbolTableSizedSymbols() {
        let table = SymbolTable([
            .init(address: 0x2000, size: 0x10, name: "second"),
            .init(address: 0x1000, size: 0x20, name: "first"),
        ])
        XCTAssertEqual(table.symbols.map(\.name), ["first", "second"], "sorted by address")
        XCTAssertNil(table.lookup(0), "before the first symbol")
        XCTAssertNil(table.lookup(0xfff), "before the first symbol")
        XCTAssertEqual(table.lookup(0x1000)?.symbol.name, "first")
        XCTAssertEqual(table.lookup(0x1000)?.offset, 0)
        XCTAssertEqual(table.lookup(0x101f)?.symbol.name, "first")
        XCTAssertEqual(table.lookup(0x101f)?.offset, 0x1f)
        XCTAssertNil(table.lookup(0x1020), "in the gap after a sized symbol")
        XCTAssertNil(table.lookup(0x1fff), "in the gap after a sized symbol")
        XCTAssertEqual(table.lookup(0x200f)?.symbol.name, "second")
        XCTAssertNil(table.lookup(0x2010), "past the last sized symbol")
        XCTAssertNil(table.lookup(.max))
    }

    func testSymbolTableUnsizedSymbolsReachTheNext() {
        let table = SymbolTable([
            .init(address: 0x1000, size: 0, name: "unsized"),
            .init(address: 0x3000, size: 0x10, name: "sized"),
            .init(address: 0x5000, size: 0, name: "last"),
        ])
        XCTAssertNil(table.lookup(0xfff))
        XCTAssertEqual(table.lookup(0x2fff)?.symbol.name, "unsized")
        XCTAssertEqual(table.lookup(0x2fff)?.offset, 0x1fff)
        XCTAssertEqual(table.lookup(0x3000)?.symbol.name, "sized")
        XCTAssertNil(table.lookup(0x4000))
        XCTAssertEqual(table.lookup(0x5000 + 0x123456)?.symbol.name, "last")
    }

    func testSymbolTableAliasesAndDuplicates() {
        let table = SymbolTable([
            .init(address: 0x1000, size: 0, name: "__libc_thing"),
            .init(address: 0x2000, size: 8, name: "other"),
            .init(address: 0x1000, size: 0x40, name: "thing"),
            .init(address: 0x1000, size: 0x40, name: "__libc_thing"),
        ])
        XCTAssertEqual(table.symbols.count, 2, "one entry per address")
        let hit = table.lookup(0x1010)
        XCTAssertEqual(hit?.symbol.name, "__libc_thing", "the first name given wins")
        XCTAssertEqual(hit?.symbol.size, 0x40, "an unsized alias takes its twin's size")
        XCTAssertNil(table.lookup(0x1040), "the adopted size bounds the symbol")
        XCTAssertEqual(table.lookup(0x2004)?.symbol.name, "other")
        XCTAssertTrue(SymbolTable([]).isEmpty)
        XCTAssertNil(SymbolTable([]).lookup(0x1000))
    }

    // MARK: Helpers

    struct NMSymbol {
        var value: UInt64
        var size: UInt64?
    }

    /// Defined symbols as `nm -S` lists them (mangled names), of any type.
    static func nm(_ path: String, dynamic: Bool = false) throws -> [String: NMSymbol] {
        let result = try TestSupport.run("/usr/bin/nm", ["-S", "--defined-only"] + (dynamic ? ["-D"] : []) + [path])
        try check(result, "nm \(path)")
        var symbols: [String: NMSymbol] = [:]
        for line in result.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3 || fields.count == 4, let value = UInt64(fields[0], radix: 16) else { continue }
            let name = String(fields[fields.count - 1])
            let size = fields.count == 4 ? UInt64(fields[1], radix: 16) : nil
            symbols[name] = symbols[name] ?? NMSymbol(value: value, size: size)
        }
        return symbols
    }

    /// Fixtures/elf/symbols.c (gcc) and widget.cpp (g++) as `lib<name>.so`.
    static func buildLibrary(named name: String, in directory: URL, linkFlags: [String] = []) throws -> URL {
        let cObject = directory.appendingPathComponent("symbols.o")
        let cppObject = directory.appendingPathComponent("widget.o")
        try check(TestSupport.run("/usr/bin/gcc", compileFlags + ["-fPIC", "-c", "-o", cObject.path,
                                                                  elfFixtures.appendingPathComponent("symbols.c").path]), "gcc")
        try check(TestSupport.run("/usr/bin/g++", compileFlags + ["-fPIC", "-c", "-o", cppObject.path,
                                                                  elfFixtures.appendingPathComponent("widget.cpp").path]), "g++")
        let library = directory.appendingPathComponent("lib\(name).so")
        try check(TestSupport.run("/usr/bin/gcc", ["-shared", "-o", library.path] + linkFlags + [cObject.path, cppObject.path]),
                  "link \(library.lastPathComponent)")
        return library
    }

    static func check(_ result: TestSupport.Finished, _ what: String) throws {
        guard result.status == 0 else {
            XCTFail("\(what) failed (\(result.status)): \(result.stderr)")
            throw CancellationError()
        }
    }
}

/// A library dlopened into the test process.
final class DlopenedLibrary {
    let handle: UnsafeMutableRawPointer
    let path: String

    init(path: String) throws {
        guard let handle = dlopen(path, RTLD_NOW) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown error"
            XCTFail("dlopen \(path): \(reason)")
            throw CancellationError()
        }
        self.handle = handle
        self.path = path
    }

    deinit { dlclose(handle) }

    func address(of symbol: String) throws -> UInt64 {
        guard let pointer = dlsym(handle, symbol) else {
            XCTFail("dlsym \(symbol) in \(path) failed")
            throw CancellationError()
        }
        return UInt64(UInt(bitPattern: pointer))
    }

    /// Calls a `void *f(void)` of the library.
    func call(returningPointer symbol: String) throws -> UInt64 {
        typealias Function = @convention(c) () -> UnsafeMutableRawPointer?
        let function = unsafeBitCast(UnsafeRawPointer(bitPattern: UInt(try address(of: symbol)))!, to: Function.self)
        return UInt64(UInt(bitPattern: function()))
    }
}

/// A child process whose stdout is read line by line while it runs.
final class FixtureChild {
    let process = Process()
    private let output = Pipe()
    private var buffered: [UInt8] = []

    init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    /// The next line of output, without its newline.
    func readLine(timeout: Double) throws -> String {
        let fd = output.fileHandleForReading.fileDescriptor
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let newline = buffered.firstIndex(of: 0x0a) {
                let line = String(decoding: buffered[..<newline], as: UTF8.self)
                buffered.removeSubrange(...newline)
                return line
            }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else {
                XCTFail("\(process.executableURL?.path ?? "child") printed no line within \(timeout) s")
                throw CancellationError()
            }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(remaining * 1000) + 1) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                XCTFail("\(process.executableURL?.path ?? "child") closed its output without a full line")
                throw CancellationError()
            }
            buffered.append(contentsOf: chunk[0..<count])
        }
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}
