import Foundation
import ProcessInspection
import Symbolization
import XCTest

/// The running kernel's /proc/kallsyms, readable with addresses only as root.
final class KernelSymbolsLiveTests: XCTestCase {
    func testRealKallsyms() throws {
        try TestSupport.requireRoot()
        let text = try FileReader.string("/proc/kallsyms")
        let symbols = try KernelSymbols()
        XCTAssertGreaterThan(symbols.table.symbols.count, 10_000)

        // Names per address, text and weak symbols only, straight from the file.
        var names: [String: UInt64] = [:]
        var aliases: [UInt64: Set<String>] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 3, "tTwW".contains(fields[1]), let address = UInt64(fields[0], radix: 16) else { continue }
            let name = String(fields[2])
            if names[name] == nil { names[name] = address }
            aliases[address, default: []].insert(name)
        }
        for name in ["schedule", "do_sys_openat2", "__x64_sys_getpid"] {
            guard let address = names[name] else {
                XCTAssertNotEqual(name, "schedule", "schedule is in every kernel")
                continue
            }
            XCTAssertNotEqual(address, 0, "kallsyms addresses are hidden")
            let accepted = aliases[address] ?? [name]
            for probe in [address, address + 1] {
                let found = symbols.name(for: probe)
                XCTAssertTrue(found.map(accepted.contains) ?? false,
                              "0x\(String(probe, radix: 16)): expected \(accepted.sorted()), got \(found ?? "nil")")
                XCTAssertEqual(symbols.table.lookup(probe)?.symbol.address, address)
            }
        }
    }
}
