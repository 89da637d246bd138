import BPFSampler
import CPyrograph

/// The BPF maps `PythonTracker` writes: which processes to sample, and how
/// to walk each interpreter. The sampler in a recording; memory in tests,
/// so the tracker's logic is tested without root.
protocol ProcessMapWriter: AnyObject {
    func addTarget(pid: Int32) throws
    func setPythonLayout(pid: Int32, layout: pyro_python_layout) throws
    /// The interpreter start probe for one interpreter file (see
    /// `Sampler.attachPythonStartProbe`).
    func attachPythonStartProbe(path: String, function: String, address: UInt64, template: pyro_python_template) throws
}

extension ProcessMapWriter {
    /// Writers with no kernel behind them catch no interpreter start.
    func attachPythonStartProbe(path: String, function: String, address: UInt64, template: pyro_python_template) throws {}
}

extension Sampler: ProcessMapWriter {}
