import CPyrograph

/// One file's CFI compiled into the BPF unwinder's rows: sorted by pc, each
/// holding from its pc up to the next row's, no two neighbours with the same
/// rules. Past the end of a function that the next does not start at
/// exactly, a NONE row marks the gap; below the first row nothing is known.
public struct UnwindTable: Sendable {
    public struct Statistics: Sendable, Equatable {
        /// FDEs compiled (of .eh_frame, then .debug_frame where it adds).
        public var fdeCount = 0
        /// FDEs skipped: empty, or overlapping an earlier one.
        public var skippedFDEs = 0
        /// FDEs whose program could not be run; their ranges are UNSUPPORTED.
        public var malformedFDEs = 0
        public var rowCount = 0
        /// rowCount * MemoryLayout<pyro_unwind_row>.stride (16).
        public var byteCount = 0
        /// Bytes of executable PT_LOAD segments, and how many lie in an FDE.
        public var executableBytes: UInt64 = 0
        public var coveredBytes: UInt64 = 0
        /// Rows by pyro_cfa_rule.
        public var rowsByRule: [UInt8: Int] = [:]

        public var coverage: Double { executableBytes == 0 ? 0 : Double(coveredBytes) / Double(executableBytes) }
    }

    public let rows: [pyro_unwind_row]
    public let statistics: Statistics

    /// Fraction of the executable PT_LOAD bytes that CFI covers.
    public var coverage: Double { statistics.coverage }

    /// Reads and compiles the .eh_frame and .debug_frame of an x86_64 ELF file.
    public static func compile(elfPath: String) throws -> UnwindTable {
        let source = try ELFUnwindSource(path: elfPath)
        return try compile(sections: source.sections, executableRanges: source.executableRanges, path: elfPath)
    }

    /// Compiles CFI sections already read. FDEs of earlier sections win
    /// where ranges overlap; `executableRanges` only feeds the coverage and
    /// `path` only the errors.
    public static func compile(sections: [CFISection], executableRanges: [Range<UInt64>],
                               path: String = "<memory>") throws -> UnwindTable {
        var statistics = Statistics()
        var described: [(fde: FrameDescriptionEntry, interpreter: CFAInterpreter?, order: Int)] = []
        for (sectionIndex, section) in sections.enumerated() {
            let entries: CFIEntries
            do { entries = try section.entries() } catch let error as CFIError {
                throw UnwindTableError.malformedCFI(path: path, section: section.kind.rawValue, error)
            }
            var interpreters: [Int: CFAInterpreter?] = [:]
            for fde in entries.fdes {
                guard fde.addressRange > 0, let cie = entries.cies[fde.cieOffset] else {
                    statistics.skippedFDEs += 1
                    continue
                }
                if interpreters[cie.offset] == nil {
                    interpreters[cie.offset] = .some(try? CFAInterpreter(section: section, cie: cie))
                }
                described.append((fde, interpreters[cie.offset]!, sectionIndex))
            }
        }
        described.sort {
            $0.fde.initialLocation != $1.fde.initialLocation
                ? $0.fde.initialLocation < $1.fde.initialLocation : $0.order < $1.order
        }

        var kept: [(fde: FrameDescriptionEntry, interpreter: CFAInterpreter?)] = []
        kept.reserveCapacity(described.count)
        for entry in described {
            if let last = kept.last, entry.fde.initialLocation < last.fde.endLocation {
                statistics.skippedFDEs += 1
                continue
            }
            guard entry.fde.endLocation <= UInt64(UInt32.max), entry.fde.endLocation > entry.fde.initialLocation else {
                throw UnwindTableError.addressTooLarge(path: path, address: entry.fde.initialLocation)
            }
            kept.append((entry.fde, entry.interpreter))
        }

        var rows: [pyro_unwind_row] = []
        rows.reserveCapacity(kept.count * 8)
        var cfiRows: [CFIRow] = []
        func append(_ row: pyro_unwind_row) {
            if let last = rows.last, last.hasSameRules(as: row) { return }
            if let last = rows.last, last.pc == row.pc { rows.removeLast() }
            if let last = rows.last, last.hasSameRules(as: row) { return }
            rows.append(row)
        }
        for (index, entry) in kept.enumerated() {
            let fde = entry.fde
            cfiRows.removeAll(keepingCapacity: true)
            do {
                guard let interpreter = entry.interpreter else { throw CFIError.badLength(offset: fde.cieOffset) }
                try interpreter.rows(for: fde, into: &cfiRows)
            } catch {
                statistics.malformedFDEs += 1
                cfiRows = [CFIRow(address: fde.initialLocation, cfa: .undefined, rbp: .unspecified, returnAddress: .unspecified)]
            }
            // A signal trampoline's CFA is an expression over the ucontext;
            // the unwinder reads that ucontext directly instead.
            let isSignalFrame = entry.interpreter?.cie.isSignalFrame ?? false
            for cfiRow in cfiRows {
                var row = UnwindRowCompiler.compile(cfiRow, pc: UInt32(cfiRow.address))
                if isSignalFrame { row.flags |= UInt16(PYRO_ROW_SIGNAL_FRAME) }
                append(row)
            }
            let nextStart = index + 1 < kept.count ? kept[index + 1].fde.initialLocation : nil
            if nextStart != fde.endLocation {
                append(pyro_unwind_row(pc: UInt32(fde.endLocation), cfa: PYRO_CFA_NONE))
            }
        }

        statistics.fdeCount = kept.count
        statistics.rowCount = rows.count
        statistics.byteCount = rows.count * MemoryLayout<pyro_unwind_row>.stride
        for row in rows { statistics.rowsByRule[row.cfa_rule, default: 0] += 1 }
        for range in executableRanges {
            statistics.executableBytes &+= range.upperBound - range.lowerBound // Range<UInt64>.count traps past Int.max
            statistics.coveredBytes += covered(range, by: kept.map(\.fde))
        }
        return UnwindTable(rows: rows, statistics: statistics)
    }

    /// Bytes of `range` inside the (sorted, disjoint) FDE ranges.
    private static func covered(_ range: Range<UInt64>, by fdes: [FrameDescriptionEntry]) -> UInt64 {
        var total: UInt64 = 0
        for fde in fdes {
            let low = max(range.lowerBound, fde.initialLocation), high = min(range.upperBound, fde.endLocation)
            if low < high { total += high - low }
        }
        return total
    }

    init(rows: [pyro_unwind_row], statistics: Statistics) {
        self.rows = rows
        self.statistics = statistics
    }

    /// The row holding at `pc` (a NONE row in a gap), or nil below the first row.
    public func row(for pc: UInt32) -> pyro_unwind_row? {
        var low = 0, high = rows.count
        while low < high {
            let mid = (low + high) / 2
            if rows[mid].pc <= pc { low = mid + 1 } else { high = mid }
        }
        return low > 0 ? rows[low - 1] : nil
    }
}
