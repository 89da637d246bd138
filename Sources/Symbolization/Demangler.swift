import CPyrograph
import Glibc

/// C++ names as people write them; other names pass through.
public enum Demangler {
    public static func demangle(_ name: String) -> String {
        guard name.hasPrefix("_Z"), let raw = pyro_demangle(name) else { return name }
        defer { free(raw) }
        return String(cString: raw)
    }
}
