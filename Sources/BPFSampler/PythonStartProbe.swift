import CPyrograph
import Glibc

extension Sampler {
    /// Puts the interpreter start probe (bpf/python_start.bpf.h) on
    /// `function` of the interpreter file at `path`: every process that
    /// starts this interpreter from now on gets `template`, relocated, as
    /// its layout in the kernel, before it runs any Python code, and the
    /// loader hears of it at once. One probe per file; the caller keys
    /// files so it asks once. `address` is the function's address in the
    /// file's own address space.
    public func attachPythonStartProbe(path: String, function: String, address: UInt64,
                                       template: pyro_python_template) throws {
        var cookie = UInt32(pythonStartProbes.count)
        var value = template
        let fd = bpf_map__fd(pyro_bpf_map(skeleton, PYRO_MAP_PYTHON_TEMPLATES))
        guard bpf_map_update_elem(fd, &cookie, &value, UInt64(BPF_ANY)) == 0 else {
            throw SamplerError.mapUpdateFailed(what: "python_templates", errno: errno)
        }
        // A uprobe_multi link where the kernel has them (6.6+): it detaches
        // in one grace period alongside the others at stop.
        let descriptor = pyro_bpf_attach_python_start_multi(skeleton, path, address, UInt64(cookie))
        if descriptor >= 0 {
            linkDescriptors.append(descriptor)
            pythonStartProbes.append(path)
            return
        }
        var error: Int32 = 0
        guard let link = pyro_bpf_attach_python_start(skeleton, path, function, cookie, &error) else {
            _ = bpf_map_delete_elem(fd, &cookie)
            throw SamplerError.attachFailed(what: "the interpreter start probe on \(function) in \(path)", errno: error,
                                            log: Sampler.libbpfLog())
        }
        startProbeLinks.append(link)
        pythonStartProbes.append(path)
    }
}
